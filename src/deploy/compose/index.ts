import type { Generator } from '../generated-file.ts'
import { generateObservability } from '../observability/index.ts'
import { composeFile } from './compose-file.ts'
import { envExample } from './env-example.ts'
import { otelCollectorConfig } from './otel-collector-config.ts'

/**
 * `keel gen compose`: `compose/compose.yaml` with the app, exactly its backing services and an
 * observability stack, the collector's config and `.env.example`, plus the `observability/` files
 * compose.yaml mounts (the same bytes `keel gen observability` writes), so the stack is whole.
 */
export const generateCompose: Generator = (plan) => [
  { path: 'compose/compose.yaml', content: composeFile(plan) },
  { path: 'compose/otel-collector.yaml', content: otelCollectorConfig(plan) },
  { path: 'compose/.env.example', content: envExample(plan) },
  ...generateObservability(plan),
]

export { buildContext, dockerfilePath } from './app-service.ts'
export { postgresUser } from './backing-services.ts'
export { composeFile, observabilityImages } from './compose-file.ts'
export { appSecretNames, envExample, stackVariables } from './env-example.ts'
export { otelCollectorConfig, otlpHttpPort } from './otel-collector-config.ts'
export { appServiceName, observabilityServices } from './service-names.ts'
