import { restoreReferences } from '../placeholder.ts'
import { configValue, pass, type ReadinessCheck, warn, whereSet } from './readiness-check.ts'

/**
 * Logs are JSON in production (one object a line, what log collectors parse), and not at a debug
 * level that logs request headers. `auto` is JSON in the prod profile and wherever stdout is not a
 * terminal, pretty on a terminal in other profiles.
 */
export const logFormatCheck: ReadinessCheck = {
  id: 'log-format',
  title: 'JSON logs at a production level',
  run(context) {
    const format = configValue<string>(context, 'log.format') ?? 'auto'
    const level = configValue<string>(context, 'log.level') ?? 'info'
    const { profile } = context.plan
    const isJson = format === 'json' || (format === 'auto' && profile === 'prod')
    if (!isJson)
      return warn(
        `log.format ${format}: ${format === 'pretty' ? 'log collectors cannot parse pretty lines' : 'pretty when stdout is a terminal outside the prod profile'}`,
        `${whereSet(context, 'log.format')}: set json in profiles.${profile}`,
      )
    if (/(^|[,=])(debug|trace)\b/.test(level))
      return warn(
        `log.level ${level}: debug lines include request headers and cost throughput`,
        `${whereSet(context, 'log.level')}: use info (or warn) in profiles.${profile}`,
      )
    return pass(`log.format ${format}${format === 'auto' ? ' (JSON in prod)' : ''}, log.level ${level}`)
  },
}

/** Traces leave the pod: tracing on, and an endpoint that is not the pod itself. */
export const tracingCheck: ReadinessCheck = {
  id: 'tracing',
  title: 'traces are exported',
  run(context) {
    const { profile } = context.plan
    if (configValue<boolean>(context, 'tracing.enabled') !== true)
      return warn(
        'tracing is off: no spans for requests, flows or jobs',
        `${whereSet(context, 'tracing.enabled')}: set tracing.enabled: true and tracing.endpoint (an OTLP/HTTP collector) in profiles.${profile}`,
      )
    const endpoint = configValue<string>(context, 'tracing.endpoint') ?? ''
    if (/^https?:\/\/(localhost|127\.|\[::1\])/.test(endpoint))
      return warn(
        `tracing.endpoint ${endpoint}: inside a pod, localhost is the pod itself`,
        `${whereSet(context, 'tracing.endpoint')}: point it at the collector's Service (http://otel-collector:4318) in profiles.${profile}`,
      )
    return pass(`tracing on, exporting to ${restoreReferences(endpoint)}`)
  },
}

/** Prometheus can scrape the app's RED metrics. */
export const metricsCheck: ReadinessCheck = {
  id: 'metrics',
  title: 'metrics are served',
  run(context) {
    const { metrics } = context.plan
    if (!metrics.enabled)
      return warn(
        'metrics are off: no request rates, errors or latencies to alert on',
        `${whereSet(context, 'metrics.enabled')}: remove it or set true in profiles.${context.plan.profile}`,
      )
    return pass(`metrics at ${metrics.path} on port ${metrics.port}`)
  },
}
