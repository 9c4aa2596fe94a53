import { stringify } from 'yaml'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { generatedHeader } from '../observability/generated-header.ts'

/** The port of the collector's OTLP/HTTP receiver, where the app posts its spans. */
export const otlpHttpPort = 4318

/**
 * `compose/otel-collector.yaml`: an OpenTelemetry collector that receives OTLP over HTTP and
 * prints each batch of spans to its log (`docker compose logs otel-collector`). Replace the
 * `debug` exporter with your tracing backend's (otlp to Tempo or Jaeger, …) to keep them.
 */
export function otelCollectorConfig(plan: DeploymentPlan): string {
  const config = {
    receivers: { otlp: { protocols: { http: { endpoint: `0.0.0.0:${otlpHttpPort}` } } } },
    processors: { batch: {} },
    exporters: { debug: { verbosity: 'basic' } },
    service: {
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['debug'] } },
    },
  }
  return `${generatedHeader(plan, 'compose')}\n${stringify(config)}`
}
