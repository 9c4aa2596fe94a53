import { envNameOf } from '../deployed-config.ts'
import { type BackingService, type DeploymentPlan, serviceUrlVariables } from '../deployment-plan.ts'
import { generatedHeader } from '../observability/generated-header.ts'

/** Variables the compose stack itself needs (not the app): its database and Grafana passwords. */
export function stackVariables(plan: DeploymentPlan): string[] {
  return [...(plan.services.includes('postgres') ? ['POSTGRES_PASSWORD'] : []), 'GRAFANA_ADMIN_PASSWORD']
}

/** The config key holding each backing service's URL. */
const urlKeys: Readonly<Record<BackingService, readonly string[]>> = {
  postgres: ['database', 'url'],
  redis: ['redis', 'url'],
  nats: ['nats', 'url'],
}

/**
 * The secrets the app reads from `.env`: the plan's secret names, less the backing-service URLs
 * compose.yaml points at its own services, by either name (`REDIS_URL`, or `KEEL_REDIS__URL` when
 * keel.yaml sets the URL literally). An empty `KEEL_REDIS__URL=` left in `.env` would otherwise
 * override the URL compose sets.
 */
export function appSecretNames(plan: DeploymentPlan): string[] {
  const setByCompose = new Set(
    plan.services.flatMap((service) => [serviceUrlVariables[service], envNameOf(urlKeys[service])]),
  )
  return plan.config.secretNames.filter((name) => !setByCompose.has(name))
}

/** `compose/.env.example`: every variable `.env` must set, empty. */
export function envExample(plan: DeploymentPlan): string {
  const lines = [
    generatedHeader(plan, 'compose'),
    '# Copy to .env (beside compose.yaml; never commit it) and give every variable a value.',
    '',
    `# Secrets ${plan.name} reads (keel.yaml refers to them as \${NAME}).`,
    ...(appSecretNames(plan).length > 0 ? appSecretNames(plan).map((name) => `${name}=`) : ['# (none)']),
    '',
    "# The stack's own.",
    ...(plan.services.includes('postgres')
      ? ['# POSTGRES_PASSWORD goes into DATABASE_URL: use URL-safe characters (`openssl rand -hex 24`).']
      : []),
    ...stackVariables(plan).map((name) => `${name}=`),
    '',
  ]
  return lines.join('\n')
}
