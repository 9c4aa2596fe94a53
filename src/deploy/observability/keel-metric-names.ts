/**
 * The Keel metric families the rules and the dashboard read, in one place: each name is what the
 * registry exports (see src/telemetry/metrics.ts, src/app/kernel-metrics.ts, src/flow/metrics.ts,
 * src/jobs/metrics.ts, src/data/instrument.ts, src/resilience/metrics.ts). A test checks every
 * expression against a real scrape, so a renamed metric fails there, not in production.
 */
export const keelMetricNames = {
  httpRequests: 'keel_http_requests_total',
  httpErrors: 'keel_http_errors_total',
  httpDuration: 'keel_http_request_duration_seconds',
  appState: 'keel_app_state',
  healthCheckUp: 'keel_health_check_up',
  flowRuns: 'keel_flow_runs_total',
  flowRunsActive: 'keel_flow_runs_active',
  flowStepRuns: 'keel_flow_step_runs_total',
  flowStepDuration: 'keel_flow_step_duration_seconds',
  flowStepDead: 'keel_flow_step_dead_total',
  jobsProcessed: 'keel_jobs_processed_total',
  jobsDuration: 'keel_jobs_duration_seconds',
  jobsActive: 'keel_jobs_active',
  jobsQueueDepth: 'keel_jobs_queue_depth',
  dbQueries: 'keel_db_queries_total',
  dbDuration: 'keel_db_query_duration_seconds',
  dbInFlight: 'keel_db_queries_in_flight',
  dbPoolMax: 'keel_db_pool_max',
  dbPoolConnections: 'keel_db_pool_connections',
  circuitState: 'keel_circuit_state',
  /** prom-client's default metrics: present while `metrics.defaultMetrics` is on. */
  processStartTime: 'process_start_time_seconds',
  processResidentMemory: 'process_resident_memory_bytes',
  processCpu: 'process_cpu_seconds_total',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
} as const

/** Job states that wait for a worker: the backlog (pg-boss `created` and `retry`). */
export const backlogStates = ['created', 'retry'] as const
