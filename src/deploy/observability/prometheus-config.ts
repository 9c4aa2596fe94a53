import { stringify } from 'yaml'
import { appServiceName } from '../compose/service-names.ts'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { generatedHeader } from './generated-header.ts'

/** Options of {@link prometheusConfig}. */
export interface PrometheusConfigOptions {
  /**
   * `host:port` addresses to scrape. Default: `<name>:<metrics port>`, the app's compose service and
   * port on the compose network (`keel gen compose`).
   */
  readonly targets?: readonly string[]
  /** File name of the alerting rules, relative to prometheus.yml. Default: `alerts.yml`. */
  readonly rulesFile?: string
}

/** The address Prometheus reaches the app at on the compose network. */
export const composeTarget = (plan: DeploymentPlan): string => `${appServiceName(plan)}:${plan.metrics.port}`

/**
 * `observability/prometheus.yml`: one scrape job named after the service (the alert rules select
 * on `job`), the app's metrics path and port, its alert rules, and, commented out, the same job
 * for Kubernetes, discovering the pods by the annotations `keel gen k8s` puts on them.
 */
export function prometheusConfig(plan: DeploymentPlan, options: PrometheusConfigOptions = {}): string {
  const isTls = plan.ports[0]?.name === 'https' && plan.metrics.port === plan.ports[0].port
  const config = {
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    rule_files: [options.rulesFile ?? 'alerts.yml'],
    scrape_configs: [
      {
        job_name: plan.name,
        metrics_path: plan.metrics.path,
        scheme: isTls ? 'https' : 'http',
        static_configs: [{ targets: [...(options.targets ?? [composeTarget(plan)])] }],
      },
    ],
  }
  const tlsNote = isTls
    ? [
        '# The app serves its metrics over TLS: give Prometheus the CA that signed its certificate',
        '# (tls_config: { ca_file: ... }) or the scrape fails certificate verification.',
      ]
    : []
  return [
    generatedHeader(plan, 'observability'),
    '# Metrics have no `service` label: Prometheus labels each series with `job`, which is the service.',
    ...tlsNote,
    stringify(config, { lineWidth: 0 }).trimEnd(),
    kubernetesExample(plan, isTls),
    '',
  ].join('\n')
}

/**
 * The Kubernetes variant of the scrape job, commented: pods of the service's namespace that are
 * annotated `prometheus.io/scrape: "true"` and labelled `app.kubernetes.io/name: <name>`, at the
 * scheme, port and path of their `prometheus.io/scheme`, `/port` and `/path` annotations. Uncommented, it replaces the static `scrape_configs` above.
 */
function kubernetesExample(plan: DeploymentPlan, isTls: boolean): string {
  const job = {
    job_name: plan.name,
    scheme: isTls ? 'https' : 'http',
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [plan.namespace] } }],
    relabel_configs: [
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
        action: 'keep',
        regex: 'true',
      },
      {
        source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'],
        action: 'keep',
        regex: plan.name,
      },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scheme'],
        action: 'replace',
        regex: '(https?)',
        target_label: '__scheme__',
      },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
        action: 'replace',
        regex: '(.+)',
        target_label: '__metrics_path__',
      },
      {
        source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
        action: 'replace',
        regex: '([^:]+)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
      },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    ],
  }
  const body = stringify({ scrape_configs: [job] }, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((line) => `# ${line}`)
  return ['', '# In Kubernetes, use these scrape_configs instead of the ones above:', ...body].join('\n')
}
