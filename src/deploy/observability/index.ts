import type { Generator } from '../generated-file.ts'
import { alertsFile } from './alert-rules.ts'
import { dashboard } from './dashboard.ts'
import { dashboardProvisioning, datasourceProvisioning } from './grafana-provisioning.ts'
import { prometheusConfig } from './prometheus-config.ts'

/**
 * `keel gen observability`: the Prometheus scrape config and alert rules, and the Grafana
 * dashboard with its provisioning, all under `observability/`. Everything follows the plan: a new
 * route gets a panel, a new job queue a backlog alert, a changed SLO a changed threshold.
 */
export const generateObservability: Generator = (plan) => [
  { path: 'observability/prometheus.yml', content: prometheusConfig(plan) },
  { path: 'observability/alerts.yml', content: alertsFile(plan) },
  { path: 'observability/grafana/dashboard.json', content: dashboard(plan) },
  {
    path: 'observability/grafana/provisioning/datasources/prometheus.yaml',
    content: datasourceProvisioning(plan),
  },
  { path: 'observability/grafana/provisioning/dashboards/keel.yaml', content: dashboardProvisioning(plan) },
]

export { type AlertGroup, type AlertRule, alertGroups, alertsFile } from './alert-rules.ts'
export { dashboard, dashboardUid } from './dashboard.ts'
export { grafanaDashboardsDir, prometheusDatasourceUid } from './grafana-provisioning.ts'
export { keelMetricNames } from './keel-metric-names.ts'
export { composeTarget, type PrometheusConfigOptions, prometheusConfig } from './prometheus-config.ts'
