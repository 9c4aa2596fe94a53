import { type DeploymentPlan, serviceUrlVariables } from '../deployment-plan.ts'
import { healthcheckScript } from '../docker/healthcheck.ts'
import { hasSetting } from '../observability/effective-setting.ts'
import type { ComposeService } from './backing-services.ts'
import { serviceUrl } from './backing-services.ts'
import { otlpHttpPort } from './otel-collector-config.ts'

/** Where `keel gen docker` writes the Dockerfile, relative to the project root. */
export const dockerfilePath = 'deploy/docker/Dockerfile'

/**
 * The build context relative to compose.yaml: the project root, two levels above
 * `<out>/compose/compose.yaml` with the default `--out deploy`.
 */
export const buildContext = '../..'

/**
 * The app's compose service: built from the Dockerfile of `keel gen docker`, configured for its
 * profile, reaching each backing service by its compose name, secrets from `.env`, its ports on
 * 127.0.0.1 only, healthy once /ready answers 200, started after its backing services are healthy.
 */
export function appService(plan: DeploymentPlan, hostPorts: ReadonlyMap<number, number>): ComposeService {
  const environment: Record<string, string> = {
    // In a container the app must listen beyond loopback; the published port stays on 127.0.0.1.
    HOST: '0.0.0.0',
    KEEL_PROFILE: plan.profile,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://otel-collector:${otlpHttpPort}`,
  }
  for (const service of plan.services) environment[serviceUrlVariables[service]] = serviceUrl(service, plan)
  // One replica and a fresh database: applying the migrations on start is safe here, unlike a
  // rollout of many replicas (where `keel migrate` runs once per deploy).
  if (plan.services.includes('postgres') && hasSetting(plan, 'data.migrateOnStart')) {
    environment.KEEL_DATA__MIGRATE_ON_START = 'true'
    // The stack's PostgreSQL serves no TLS; a prod profile asking for verify-full would never connect.
    environment.KEEL_DATA__SSLMODE = 'disable'
  }
  const dependsOn: Record<string, { condition: string }> = {
    'otel-collector': { condition: 'service_started' },
  }
  for (const service of plan.services) dependsOn[service] = { condition: 'service_healthy' }
  return {
    build: { context: buildContext, dockerfile: dockerfilePath },
    image: plan.image,
    restart: 'unless-stopped',
    env_file: ['.env'],
    environment: sorted(environment),
    ports: plan.ports.map(({ port }) => `127.0.0.1:${hostPorts.get(port) ?? port}:${port}`),
    healthcheck: {
      // The image's own HEALTHCHECK script (Node's fetch on the ready probe), so both agree.
      test: ['CMD', 'node', '-e', healthcheckScript(plan)],
      interval: '10s',
      timeout: '5s',
      retries: 3,
      start_period: '30s',
    },
    stop_grace_period: `${plan.terminationGracePeriodSeconds}s`,
    depends_on: sorted(dependsOn),
  }
}

const sorted = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
