import { stringify } from 'yaml'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { generatedHeader } from './generated-header.ts'

/** Where the compose stack mounts the dashboard inside the Grafana container. */
export const grafanaDashboardsDir = '/var/lib/grafana/dashboards'

/** The uid of the provisioned Prometheus data source. */
export const prometheusDatasourceUid = 'prometheus'

/**
 * `grafana/provisioning/datasources/prometheus.yaml`: Prometheus at `url` (the compose service by
 * default) as the default data source, which the dashboard's `DS_PROMETHEUS` variable picks.
 */
export function datasourceProvisioning(plan: DeploymentPlan, url = 'http://prometheus:9090'): string {
  const file = {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        type: 'prometheus',
        uid: prometheusDatasourceUid,
        access: 'proxy',
        url,
        isDefault: true,
        editable: false,
      },
    ],
  }
  return `${generatedHeader(plan, 'observability')}\n${stringify(file)}`
}

/** `grafana/provisioning/dashboards/keel.yaml`: loads the dashboards under {@link grafanaDashboardsDir}. */
export function dashboardProvisioning(plan: DeploymentPlan): string {
  const file = {
    apiVersion: 1,
    providers: [
      {
        name: plan.name,
        type: 'file',
        folder: 'Keel',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: grafanaDashboardsDir },
      },
    ],
  }
  return `${generatedHeader(plan, 'observability')}\n${stringify(file)}`
}
