import { stringify } from 'yaml'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { generatedHeader } from '../observability/generated-header.ts'
import { grafanaDashboardsDir } from '../observability/grafana-provisioning.ts'
import { appService } from './app-service.ts'
import { backingServices, type ComposeService, required } from './backing-services.ts'
import { otlpHttpPort } from './otel-collector-config.ts'
import { appServiceName } from './service-names.ts'

/** Images of the observability services, pinned so the same app gives the same stack. */
export const observabilityImages = {
  prometheus: 'prom/prometheus:v2.55.1',
  grafana: 'grafana/grafana:11.3.0',
  otelCollector: 'otel/opentelemetry-collector:0.114.0',
} as const

/** The observability files compose.yaml mounts, relative to it (written by `keel gen observability`). */
const observability = '../observability'

/**
 * `compose/compose.yaml`: the app, exactly the backing services it uses, and Prometheus, Grafana
 * and an OpenTelemetry collector. Everything published listens on 127.0.0.1 only.
 */
export function composeFile(plan: DeploymentPlan): string {
  const hostPorts = allocateHostPorts(plan)
  const app = appServiceName(plan)
  const services: Record<string, ComposeService> = { [app]: appService(plan, hostPorts.app) }
  const volumes: string[] = []
  for (const name of plan.services) {
    const backing = backingServices[name](plan)
    services[name] = backing.service
    volumes.push(...backing.volumes)
  }
  services.prometheus = {
    image: observabilityImages.prometheus,
    restart: 'unless-stopped',
    command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
    volumes: [
      `${observability}/prometheus.yml:/etc/prometheus/prometheus.yml:ro`,
      `${observability}/alerts.yml:/etc/prometheus/alerts.yml:ro`,
      'prometheus-data:/prometheus',
    ],
    ports: [`127.0.0.1:${hostPorts.prometheus}:9090`],
  }
  services.grafana = {
    image: observabilityImages.grafana,
    restart: 'unless-stopped',
    environment: {
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_SECURITY_ADMIN_PASSWORD: required('GRAFANA_ADMIN_PASSWORD'),
      GF_USERS_ALLOW_SIGN_UP: 'false',
    },
    volumes: [
      `${observability}/grafana/provisioning:/etc/grafana/provisioning:ro`,
      `${observability}/grafana/dashboard.json:${grafanaDashboardsDir}/${plan.name}.json:ro`,
      'grafana-data:/var/lib/grafana',
    ],
    ports: [`127.0.0.1:${hostPorts.grafana}:3000`],
    depends_on: { prometheus: { condition: 'service_started' } },
  }
  services['otel-collector'] = {
    image: observabilityImages.otelCollector,
    restart: 'unless-stopped',
    command: ['--config=/etc/otelcol/config.yaml'],
    volumes: ['./otel-collector.yaml:/etc/otelcol/config.yaml:ro'],
    // Not published: the app reaches it on the compose network.
    expose: [String(otlpHttpPort)],
  }
  volumes.push('grafana-data', 'prometheus-data')
  const file = {
    // The project name: without it every stack under a `compose/` folder would be project
    // "compose", sharing containers and volumes with another app's.
    name: plan.name,
    services,
    volumes: Object.fromEntries(volumes.sort().map((volume) => [volume, {}])),
  }
  return `${generatedHeader(plan, 'compose')}\n${stringify(file, { lineWidth: 0 })}`
}

/**
 * Host ports: the app's own ports as they are, then Prometheus (9090) and Grafana (3000) on the
 * next free port if the app already has theirs (an app on 3000 puts Grafana on 3001).
 */
function allocateHostPorts(plan: DeploymentPlan) {
  const used = new Set(plan.ports.map((p) => p.port))
  const next = (wanted: number) => {
    let port = wanted
    while (used.has(port)) port++
    used.add(port)
    return port
  }
  const app = new Map(plan.ports.map((p) => [p.port, p.port]))
  return { app, prometheus: next(9090), grafana: next(3000) }
}
