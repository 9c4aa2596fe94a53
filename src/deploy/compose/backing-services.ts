import type { BackingService, DeploymentPlan } from '../deployment-plan.ts'

/** A compose service definition, as compose.yaml holds it. */
export type ComposeService = Record<string, unknown>

/** The database user the compose PostgreSQL creates; its password comes from `.env`. */
export const postgresUser = 'keel'

/** Compose's own required-variable syntax: `docker compose` refuses to start while it is unset. */
export const required = (name: string): string => `\${${name}:?set ${name} in .env (see .env.example)}`

/** Checks often while a backing service starts, so the app waits seconds, not a minute. */
const startupCheck = { interval: '5s', timeout: '5s', retries: 10, start_period: '10s' }

/**
 * The compose service of each backing service, with a health check the app's `depends_on`
 * waits for, and a volume where the data must outlive the container.
 */
export const backingServices: Readonly<
  Record<BackingService, (plan: DeploymentPlan) => { service: ComposeService; volumes: string[] }>
> = {
  postgres: (plan) => ({
    service: {
      image: 'postgres:16',
      restart: 'unless-stopped',
      environment: {
        POSTGRES_DB: plan.name,
        POSTGRES_PASSWORD: required('POSTGRES_PASSWORD'),
        POSTGRES_USER: postgresUser,
      },
      volumes: ['postgres-data:/var/lib/postgresql/data'],
      healthcheck: { test: ['CMD', 'pg_isready', '-U', postgresUser, '-d', plan.name], ...startupCheck },
    },
    volumes: ['postgres-data'],
  }),
  redis: () => ({
    service: {
      image: 'redis:7',
      restart: 'unless-stopped',
      healthcheck: { test: ['CMD', 'redis-cli', 'ping'], ...startupCheck },
    },
    volumes: [],
  }),
  // The alpine variant: the default nats image has no shell or wget to probe /healthz with.
  nats: () => ({
    service: {
      image: 'nats:2-alpine',
      restart: 'unless-stopped',
      command: ['nats-server', '--jetstream', '--store_dir', '/data', '--http_port', '8222'],
      volumes: ['nats-data:/data'],
      healthcheck: {
        test: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8222/healthz'],
        ...startupCheck,
      },
    },
    volumes: ['nats-data'],
  }),
}

/** The URL the app reaches each backing service at on the compose network. */
export function serviceUrl(service: BackingService, plan: DeploymentPlan): string {
  switch (service) {
    case 'postgres':
      return `postgres://${postgresUser}:\${POSTGRES_PASSWORD}@postgres:5432/${plan.name}`
    case 'redis':
      return 'redis://redis:6379'
    case 'nats':
      return 'nats://nats:4222'
  }
}
