import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { loadAppForDeploy } from '../../src/cli/load-for-deploy.ts'
import { type DeploymentPlan, deploymentPlan } from '../../src/deploy/index.ts'
import { alertsFile, dashboard, prometheusConfig } from '../../src/deploy/observability/index.ts'

// Prometheus's own tool judges the generated files: `promtool check config` and `check rules`
// accept them, and `promtool test rules` evaluates the rules over synthetic series: series that
// breach each objective fire the alert with the expected labels, healthy series fire nothing.

const dir = mkdtempSync(join(tmpdir(), 'keel-promtool-'))
let todo: DeploymentPlan
let orders: DeploymentPlan

/** Runs promtool in `dir`; fails the test with its output when it exits non-zero. */
function promtool(...args: string[]): string {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 })
  if (run.error) throw new Error(`promtool could not run (is Prometheus installed?): ${run.error.message}`)
  const output = `${run.stdout}${run.stderr}`
  if (run.status !== 0) throw new Error(`promtool ${args.join(' ')} exited ${run.status}:\n${output}`)
  return output
}

/** Like {@link promtool}, for a run that must fail: its output. */
function promtoolFailing(...args: string[]): string {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 })
  expect(run.status, `${run.stdout}${run.stderr}`).not.toBe(0)
  return `${run.stdout}${run.stderr}`
}

beforeAll(async () => {
  todo = deploymentPlan(await loadAppForDeploy('examples/todo/app.ts', 'prod'), {
    entry: 'examples/todo/app.ts',
  })
  orders = deploymentPlan(await loadAppForDeploy('examples/orders/app.ts', 'prod'), {
    entry: 'examples/orders/app.ts',
  })
  writeFileSync(join(dir, 'alerts.yml'), alertsFile(todo))
  writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(todo))
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('promtool check', () => {
  it('accepts prometheus.yml with alerts.yml beside it', () => {
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS: prometheus\.yml is valid/)
  })

  it('accepts the relabelling of the Kubernetes scrape job once uncommented', () => {
    const [main, example] = prometheusConfig(todo).split(
      '# In Kubernetes, use these scrape_configs instead of the ones above:\n',
    )
    const kubernetes = parse(
      example!
        .trimEnd()
        .split('\n')
        .map((line) => line.slice(2))
        .join('\n'),
    ) as { scrape_configs: Array<Record<string, unknown>> }
    const job = kubernetes.scrape_configs[0]!
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['todo'] } }])
    // Debian's Prometheus build leaves Kubernetes discovery out ("field kubernetes_sd_configs not
    // found"), so the discovery block is swapped for a static target; promtool still checks the
    // job and every relabelling rule (actions, regular expressions, target labels).
    delete job.kubernetes_sd_configs
    job.static_configs = [{ targets: ['10.0.0.1:3000'] }]
    writeFileSync(
      join(dir, 'prometheus-k8s.yml'),
      `${main!.split('scrape_configs:')[0]}${stringify(kubernetes)}`,
    )
    expect(promtool('check', 'config', 'prometheus-k8s.yml')).toMatch(/is valid prometheus config/)
  })

  it('accepts the alert rules of the todo and the orders apps', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 11 rules found/)
    writeFileSync(join(dir, 'orders-alerts.yml'), alertsFile(orders))
    expect(promtool('check', 'rules', 'orders-alerts.yml')).toMatch(/SUCCESS: \d+ rules found/)
  })

  it('finds every dashboard expression valid PromQL (as recording rules, Grafana variables filled in)', () => {
    const exprs = [todo, orders].flatMap((plan) =>
      (JSON.parse(dashboard(plan)).panels as Array<{ targets?: Array<{ expr: string }> }>).flatMap((p) =>
        (p.targets ?? []).map((t) =>
          t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'),
        ),
      ),
    )
    const rules = exprs.map((expr, index) => ({ record: `dashboard:expr_${index}`, expr }))
    writeFileSync(join(dir, 'dashboard-rules.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }))
    expect(promtool('check', 'rules', 'dashboard-rules.yml')).toContain(
      `SUCCESS: ${exprs.length} rules found`,
    )
  })

  it('would reject a broken expression (the check can fail)', () => {
    writeFileSync(
      join(dir, 'broken.yml'),
      stringify({
        groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'sum(rate(keel_http_requests_total[5m])' }] }],
      }),
    )
    expect(promtoolFailing('check', 'rules', 'broken.yml')).toMatch(/parse error|unclosed/i)
  })
})

// ---- promtool test rules ---------------------------------------------------------------------

const instance = 'todo:3000'
const other = 'todo-2:3000'
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries({ job: 'todo', instance, ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
})
const route = { method: 'GET', route: '/v1/todos' }
/** A duration histogram whose observations all fall in the bucket ending at `le`. */
const histogram = (labels: Record<string, string>, perMinute: number, le: string) =>
  ['0.05', '0.5', '1', '+Inf'].map((bucket) =>
    series(
      'keel_http_request_duration_seconds_bucket',
      { ...labels, le: bucket },
      Number(bucket) >= Number(le) || bucket === '+Inf' ? `0+${perMinute}x20` : '0x20',
    ),
  )

/** Series of an instance in trouble on every front. */
const breaching = [
  series('up', {}, '0x20'),
  series('keel_app_state', { state: 'ready' }, '0x20'),
  series('keel_health_check_up', { check: 'database', critical: 'true' }, '0x20'),
  series('process_start_time_seconds', {}, '1000+60x20'),
  series('keel_http_requests_total', { ...route, status: '200' }, '0+600x20'),
  series('keel_http_requests_total', { ...route, status: '500' }, '0+60x20'),
  series('keel_http_errors_total', { ...route, status: '500' }, '0+60x20'),
  ...histogram({ ...route, status: '200' }, 600, '1'),
  series('keel_jobs_queue_depth', { queue: 'webhooks.deliver', state: 'created' }, '1500x20'),
  series('keel_jobs_processed_total', { queue: 'webhooks.deliver', outcome: 'failed' }, '0+1x20'),
  series('keel_db_queries_in_flight', { driver: 'postgres' }, '10x20'),
  series('keel_db_pool_max', { driver: 'postgres' }, '10x20'),
  series('keel_circuit_state', { policy: 'payments' }, '2x20'),
]

/**
 * Series of two healthy instances, with what must not fire: 503s of a draining /ready (a probe,
 * not a request), a 5xx share under the 0.1 % budget, 600 jobs waiting that both replicas report
 * (one queue of 600, not 1200), half the pool in use, a circuit isolated by hand.
 */
const healthy = [
  series('up', {}, '1x20'),
  series('keel_app_state', { state: 'ready' }, '1x20'),
  series('keel_health_check_up', { check: 'database', critical: 'true' }, '1x20'),
  series('process_start_time_seconds', {}, '1000x20'),
  series('keel_http_requests_total', { ...route, status: '200' }, '0+600x20'),
  series('keel_http_requests_total', { ...route, status: '500' }, '0+0.3x20'),
  series('keel_http_errors_total', { ...route, status: '500' }, '0+0.3x20'),
  series('keel_http_requests_total', { method: 'GET', route: '/ready', status: '503' }, '0+60x20'),
  series('keel_http_errors_total', { method: 'GET', route: '/ready', status: '503' }, '0+60x20'),
  ...histogram({ ...route, status: '200' }, 600, '0.05'),
  series('keel_jobs_queue_depth', { queue: 'webhooks.deliver', state: 'created' }, '600x20'),
  series('keel_jobs_queue_depth', { queue: 'webhooks.deliver', state: 'created', instance: other }, '600x20'),
  series('keel_jobs_processed_total', { queue: 'webhooks.deliver', outcome: 'failed' }, '0x20'),
  series('keel_db_queries_in_flight', { driver: 'postgres' }, '5x20'),
  series('keel_db_pool_max', { driver: 'postgres' }, '10x20'),
  series('keel_circuit_state', { policy: 'payments' }, '3x20'),
]

const fixed = { service: 'todo' }
const critical = { ...fixed, severity: 'critical' }
const warning = { ...fixed, severity: 'warning' }
const at = { job: 'todo', instance }

/** Each alert and the labels it must fire with on the breaching series, 15 minutes in. */
const expectedFiring: Record<string, Record<string, string>> = {
  KeelTargetDown: { ...critical, ...at },
  KeelNotReady: { ...critical, ...at, state: 'ready' },
  KeelHealthCheckFailing: { ...critical, ...at, check: 'database', critical: 'true' },
  KeelRestarting: { ...warning, ...at },
  KeelHighErrorRate: { ...critical, job: 'todo' },
  KeelHighLatencyP99: { ...warning, job: 'todo' },
  KeelJobBacklog: { ...warning, job: 'todo', queue: 'webhooks.deliver' },
  KeelJobsFailed: { ...warning, job: 'todo', queue: 'webhooks.deliver' },
  KeelDbPoolSaturated: { ...warning, ...at, driver: 'postgres' },
  KeelCircuitOpen: { ...warning, ...at, policy: 'payments' },
}

/** The rules without annotations: this part checks when alerts fire and with which labels. */
function rulesWithoutAnnotations(text: string): string {
  const file = parse(text) as { groups: Array<{ rules: Array<Record<string, unknown>> }> }
  for (const group of file.groups) for (const rule of group.rules) delete rule.annotations
  return stringify(file)
}

function runRuleTests(name: string, rulesFile: string, tests: unknown[]): string {
  writeFileSync(
    join(dir, `${name}.test.yml`),
    stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }),
  )
  return promtool('test', 'rules', `${name}.test.yml`)
}

describe('promtool test rules', () => {
  it('fires every alert, with its labels, on series that breach the objectives', () => {
    writeFileSync(join(dir, 'alerts-bare.yml'), rulesWithoutAnnotations(alertsFile(todo)))
    const tests = [
      {
        interval: '1m',
        input_series: breaching,
        alert_rule_test: Object.entries(expectedFiring).map(([alertname, labels]) => ({
          eval_time: '15m',
          alertname,
          exp_alerts: [{ exp_labels: labels }],
        })),
      },
    ]
    expect(runRuleTests('breaching', 'alerts-bare.yml', tests)).toContain('SUCCESS')
  })

  it('fires nothing on healthy series', () => {
    writeFileSync(join(dir, 'alerts-bare.yml'), rulesWithoutAnnotations(alertsFile(todo)))
    const names = [...Object.keys(expectedFiring), 'KeelTargetMissing']
    const tests = [
      {
        interval: '1m',
        input_series: healthy,
        alert_rule_test: names.map((alertname) => ({ eval_time: '15m', alertname, exp_alerts: [] })),
      },
    ]
    expect(runRuleTests('healthy', 'alerts-bare.yml', tests)).toContain('SUCCESS')
  })

  it('reports a missing target when no instance of the job is scraped', () => {
    writeFileSync(join(dir, 'alerts-bare.yml'), rulesWithoutAnnotations(alertsFile(todo)))
    const tests = [
      {
        interval: '1m',
        input_series: [series('up', { job: 'someone-else' }, '1x20')],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'KeelTargetMissing', exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: 'KeelTargetMissing',
            exp_alerts: [{ exp_labels: { ...critical, job: 'todo' } }],
          },
        ],
      },
    ]
    expect(runRuleTests('missing', 'alerts-bare.yml', tests)).toContain('SUCCESS')
  })

  it('waits out the `for` duration: the latency alert is pending, not firing, 5 minutes in', () => {
    writeFileSync(join(dir, 'alerts-bare.yml'), rulesWithoutAnnotations(alertsFile(todo)))
    const tests = [
      {
        interval: '1m',
        input_series: breaching,
        alert_rule_test: [
          { eval_time: '5m', alertname: 'KeelHighLatencyP99', exp_alerts: [] },
          {
            eval_time: '5m',
            alertname: 'KeelJobsFailed',
            exp_alerts: [{ exp_labels: expectedFiring.KeelJobsFailed }],
          },
        ],
      },
    ]
    expect(runRuleTests('pending', 'alerts-bare.yml', tests)).toContain('SUCCESS')
  })

  it('catches a wrong expectation (the test can fail)', () => {
    writeFileSync(join(dir, 'alerts-bare.yml'), rulesWithoutAnnotations(alertsFile(todo)))
    writeFileSync(
      join(dir, 'wrong.test.yml'),
      stringify({
        rule_files: ['alerts-bare.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: healthy,
            alert_rule_test: [
              {
                eval_time: '15m',
                alertname: 'KeelHighErrorRate',
                exp_alerts: [{ exp_labels: expectedFiring.KeelHighErrorRate }],
              },
            ],
          },
        ],
      }),
    )
    expect(promtoolFailing('test', 'rules', 'wrong.test.yml')).toMatch(/KeelHighErrorRate/)
  })

  it('renders the annotations with the labels and value of the alert', () => {
    const tests = [
      {
        interval: '1m',
        input_series: breaching,
        alert_rule_test: [
          {
            eval_time: '15m',
            alertname: 'KeelHighErrorRate',
            exp_alerts: [
              {
                exp_labels: expectedFiring.KeelHighErrorRate,
                exp_annotations: {
                  summary: 'todo answers 9.091% of requests with a 5xx',
                  description:
                    "Over 5 minutes, 9.091% of todo's requests failed with a 5xx; the availability objective of 99.9% allows 0.1%.",
                  runbook:
                    'Find the failing routes: sum by (route, status) (rate(keel_http_errors_total[5m])); then the "request failed" log lines.',
                },
              },
            ],
          },
          {
            eval_time: '15m',
            alertname: 'KeelJobBacklog',
            exp_alerts: [
              {
                exp_labels: expectedFiring.KeelJobBacklog,
                exp_annotations: {
                  summary: 'todo queue webhooks.deliver has 1500 jobs waiting',
                  description:
                    'Queue webhooks.deliver has had more than 1000 jobs waiting (created or retry) for 10 minutes: workers do not keep up, or fail and retry.',
                  runbook:
                    'Compare keel_jobs_processed_total by outcome with the arrival rate; add replicas or raise the queue concurrency; check retried jobs.',
                },
              },
            ],
          },
        ],
      },
    ]
    expect(runRuleTests('annotations', 'alerts.yml', tests)).toContain('SUCCESS')
  })

  it('fires the flow dead-letter alert of the orders app when a step exhausts its retries', () => {
    writeFileSync(join(dir, 'orders-bare.yml'), rulesWithoutAnnotations(alertsFile(orders)))
    const dead = (values: string) => ({
      series: `keel_flow_step_dead_total{job="orders",instance="orders:3000",flow="order",step="charge"}`,
      values,
    })
    const tests = [
      {
        interval: '1m',
        input_series: [dead('0 0 0 1 1 1 1 1 1 1')],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'KeelFlowDeadLetters',
            exp_alerts: [
              {
                exp_labels: {
                  service: 'orders',
                  severity: 'warning',
                  job: 'orders',
                  flow: 'order',
                  step: 'charge',
                },
              },
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [dead('0x10')],
        alert_rule_test: [{ eval_time: '5m', alertname: 'KeelFlowDeadLetters', exp_alerts: [] }],
      },
    ]
    expect(runRuleTests('flows', 'orders-bare.yml', tests)).toContain('SUCCESS')
  })
})
