import { stringify } from 'yaml'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { effectiveSetting } from './effective-setting.ts'
import { generatedHeader } from './generated-header.ts'
import { backlogStates, keelMetricNames as m } from './keel-metric-names.ts'
import { decimal, oneOf, selector } from './promql.ts'
import { httpScope, type ServiceScope, serviceScope } from './service-scope.ts'

/** One Prometheus alerting rule. */
export interface AlertRule {
  readonly alert: string
  readonly expr: string
  /** How long the condition must hold; absent: fire on the first evaluation. */
  readonly for?: string
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook: string }
}

/** A rule group as Prometheus reads it. */
export interface AlertGroup {
  readonly name: string
  readonly rules: readonly AlertRule[]
}

type Severity = 'critical' | 'warning'

/**
 * The alerting rules of `plan`'s service: availability (target down or missing, not ready, failing
 * critical checks, restarts), the SLOs of `deploy.slos` (5xx ratio above the availability budget,
 * p99 latency), and one group per capability the app has (job backlog and dead letters, flow dead
 * letters, database pool saturation, open circuit breakers).
 */
export function alertGroups(plan: DeploymentPlan): AlertGroup[] {
  const scope = serviceScope(plan)
  const rule = ruleMaker(plan.name)
  const groups: AlertGroup[] = [
    { name: `${plan.name}.availability`, rules: availabilityRules(plan, scope, rule) },
    { name: `${plan.name}.slo`, rules: sloRules(plan, scope, rule) },
  ]
  if (plan.jobs.length > 0) groups.push({ name: `${plan.name}.jobs`, rules: jobRules(plan, scope, rule) })
  if (plan.flows.length > 0) groups.push({ name: `${plan.name}.flows`, rules: flowRules(scope, rule) })
  if (plan.services.includes('postgres')) {
    groups.push({ name: `${plan.name}.database`, rules: databaseRules(plan, scope, rule) })
  }
  groups.push({ name: `${plan.name}.resilience`, rules: resilienceRules(scope, rule) })
  return groups
}

/** `observability/alerts.yml`. */
export function alertsFile(plan: DeploymentPlan): string {
  return `${generatedHeader(plan, 'observability')}\n${stringify({ groups: alertGroups(plan) }, { lineWidth: 0 })}`
}

type RuleMaker = (
  alert: string,
  severity: Severity,
  expr: string,
  forDuration: string,
  text: AlertRule['annotations'],
) => AlertRule

function ruleMaker(service: string): RuleMaker {
  return (alert, severity, expr, forDuration, annotations) => ({
    alert,
    expr,
    ...(forDuration ? { for: forDuration } : {}),
    // Sorted: the order of a map carries no meaning, and sorted keys keep regenerated files stable.
    labels: { service, severity },
    annotations,
  })
}

const where = 'on {{ $labels.instance }}'

function availabilityRules(plan: DeploymentPlan, scope: ServiceScope, rule: RuleMaker): AlertRule[] {
  const up = selector('up', [scope.job])
  const rules = [
    rule('KeelTargetDown', 'critical', `${up} == 0`, '2m', {
      summary: `${plan.name} ${where} cannot be scraped`,
      description: `Prometheus has failed to scrape {{ $labels.instance }} (job {{ $labels.job }}) for 2 minutes: the process is down, hung, or not reachable on its metrics port.`,
      runbook:
        'Check the container or pod status and its last log lines; then the network path to the metrics port.',
    }),
    rule('KeelTargetMissing', 'critical', `absent(${up})`, '5m', {
      summary: `${plan.name} has no scrape target`,
      description: `No target of job ${plan.name} has been discovered for 5 minutes: no replica runs, or service discovery does not find it.`,
      runbook:
        'Check that the deployment has running replicas and that its pods carry the prometheus.io/scrape annotation.',
    }),
    rule(
      'KeelNotReady',
      'critical',
      `${selector(m.appState, [scope.job, ['state', '=', 'ready']])} == 0`,
      '5m',
      {
        summary: `${plan.name} ${where} has not been ready for 5 minutes`,
        description: `The lifecycle state of {{ $labels.instance }} has not been "ready" for 5 minutes (starting, draining or stopped), so it takes no traffic.`,
        runbook:
          'Read keel_app_state by state and the start-up log: a module that does not start or a shutdown that does not end.',
      },
    ),
    rule(
      'KeelHealthCheckFailing',
      'critical',
      `${selector(m.healthCheckUp, [scope.job, ['critical', '=', 'true']])} == 0`,
      '5m',
      {
        summary: `${plan.name} ${where}: health check {{ $labels.check }} is failing`,
        description: `The critical health check {{ $labels.check }} has failed on {{ $labels.instance }} for 5 minutes; /ready answers 503, so the instance takes no traffic.`,
        runbook:
          'GET /health on the instance for the failing check and its error; then check the dependency it probes.',
      },
    ),
  ]
  // The process start time comes with prom-client's default metrics; without them there is none.
  if (effectiveSetting(plan, 'metrics.defaultMetrics') !== false) {
    rules.push(
      rule(
        'KeelRestarting',
        'warning',
        `changes(${selector(m.processStartTime, [scope.job])}[30m]) > 2`,
        '',
        {
          summary: `${plan.name} ${where} restarted {{ $value }} times in 30 minutes`,
          description: `The process behind {{ $labels.instance }} started {{ $value }} times in 30 minutes: it crashes or is killed (out of memory, failing liveness probe).`,
          runbook:
            'Read the logs of the previous container (docker compose logs, kubectl logs --previous) and its exit reason.',
        },
      ),
    )
  }
  return rules
}

function sloRules(plan: DeploymentPlan, scope: ServiceScope, rule: RuleMaker): AlertRule[] {
  const { availabilityPercent, latencyP99Ms } = plan.deploy.slos
  const budget = decimal((100 - availabilityPercent) / 100)
  const http = httpScope(scope)
  const rate = (metric: string) => `sum by (job) (rate(${selector(metric, http)}[5m]))`
  const p99 = `histogram_quantile(0.99, sum by (job, le) (rate(${selector(`${m.httpDuration}_bucket`, http)}[5m])))`
  return [
    rule(
      'KeelHighErrorRate',
      'critical',
      `${rate(m.httpErrors)} / ${rate(m.httpRequests)} > ${budget}`,
      '5m',
      {
        summary: `${plan.name} answers {{ $value | humanizePercentage }} of requests with a 5xx`,
        description: `Over 5 minutes, {{ $value | humanizePercentage }} of ${plan.name}'s requests failed with a 5xx; the availability objective of ${decimal(availabilityPercent)}% allows ${decimal(100 - availabilityPercent)}%.`,
        runbook:
          'Find the failing routes: sum by (route, status) (rate(keel_http_errors_total[5m])); then the "request failed" log lines.',
      },
    ),
    rule('KeelHighLatencyP99', 'warning', `${p99} > ${decimal(latencyP99Ms / 1000)}`, '10m', {
      summary: `${plan.name} p99 latency is {{ $value | humanizeDuration }}`,
      description: `The 99th percentile of ${plan.name}'s request duration has been above its objective of ${latencyP99Ms} ms for 10 minutes.`,
      runbook:
        'Find the slow routes on the dashboard; then slow queries (keel_db_query_duration_seconds, the "slow query" log) and saturation.',
    }),
  ]
}

function jobRules(plan: DeploymentPlan, scope: ServiceScope, rule: RuleMaker): AlertRule[] {
  const backlog = selector(m.jobsQueueDepth, [scope.job, ['state', '=~', oneOf(backlogStates)]])
  // Every replica reads the same table: the depth is per queue, not per instance, so take the
  // largest report instead of adding replicas up.
  const perQueue = `max by (job, queue) (sum by (job, instance, queue) (${backlog}))`
  const failed = selector(m.jobsProcessed, [scope.job, ['outcome', '=', 'failed']])
  return [
    rule('KeelJobBacklog', 'warning', `${perQueue} > ${plan.deploy.slos.jobBacklog}`, '10m', {
      summary: `${plan.name} queue {{ $labels.queue }} has {{ $value }} jobs waiting`,
      description: `Queue {{ $labels.queue }} has had more than ${plan.deploy.slos.jobBacklog} jobs waiting (created or retry) for 10 minutes: workers do not keep up, or fail and retry.`,
      runbook:
        'Compare keel_jobs_processed_total by outcome with the arrival rate; add replicas or raise the queue concurrency; check retried jobs.',
    }),
    rule('KeelJobsFailed', 'warning', `sum by (job, queue) (increase(${failed}[15m])) > 0`, '', {
      summary: `${plan.name} queue {{ $labels.queue }}: jobs failed for good`,
      description: `{{ $value }} jobs of queue {{ $labels.queue }} exhausted their retries in the last 15 minutes and went to the dead letters.`,
      runbook:
        'Inspect the dead letters of the queue (keel inspector or the jobs tables) and their last error.',
    }),
  ]
}

function flowRules(scope: ServiceScope, rule: RuleMaker): AlertRule[] {
  const dead = selector(m.flowStepDead, [scope.job])
  return [
    rule('KeelFlowDeadLetters', 'warning', `sum by (job, flow, step) (increase(${dead}[15m])) > 0`, '', {
      summary: `flow {{ $labels.flow }}: step {{ $labels.step }} sent runs to the dead letters`,
      description: `{{ $value }} runs of flow {{ $labels.flow }} exhausted the retries of step {{ $labels.step }} in the last 15 minutes.`,
      runbook:
        'Inspect the dead letters of the flow in the inspector; fix the cause, then resume or compensate the runs.',
    }),
  ]
}

function databaseRules(plan: DeploymentPlan, scope: ServiceScope, rule: RuleMaker): AlertRule[] {
  // Statements in flight count those waiting for a connection too, so a share of the pool's size
  // (keel_db_pool_max, same labels) at or above 1 means queries queue for the pool.
  const threshold = decimal(plan.deploy.slos.dbPoolSaturationPercent / 100)
  const matchers = [scope.job, ['driver', '=', 'postgres']] as const
  const inFlight = selector(m.dbInFlight, [...matchers])
  const poolMax = selector(m.dbPoolMax, [...matchers])
  return [
    rule(
      'KeelDbPoolSaturated',
      'warning',
      `avg_over_time(${inFlight}[5m]) / ${poolMax} > ${threshold}`,
      '10m',
      {
        summary: `${plan.name} ${where} uses {{ $value | humanizePercentage }} of its database pool`,
        description: `Statements in flight on {{ $labels.instance }} averaged above ${plan.deploy.slos.dbPoolSaturationPercent}% of the pool (keel_db_pool_max, data.poolSize) for 10 minutes; more waits for a connection.`,
        runbook:
          'Look for slow queries and long transactions; raise data.poolSize within the server max_connections divided by replicas.',
      },
    ),
  ]
}

function resilienceRules(scope: ServiceScope, rule: RuleMaker): AlertRule[] {
  // The family appears once the app runs a circuit breaker with metrics; until then the rule
  // matches nothing. State 3 (isolated) is an operator's choice, so only 2 (open) alerts.
  return [
    rule('KeelCircuitOpen', 'warning', `${selector(m.circuitState, [scope.job])} == 2`, '5m', {
      summary: `circuit breaker {{ $labels.policy }} ${where} is open`,
      description: `The circuit breaker {{ $labels.policy }} has been open for 5 minutes: calls to its dependency fail fast.`,
      runbook: 'Check the dependency behind the policy and keel_resilience_calls_total by outcome.',
    }),
  ]
}
