import type { Registry } from 'prom-client'
import { BoundCounter, BoundHistogram, perRegistry } from '../telemetry/index.ts'

/** Webhook delivery metrics on an app's registry. */
export interface WebhookMetrics {
  attempt(outcome: 'delivered' | 'gone' | 'retry' | 'failed', seconds: number): void
}

export const webhookMetrics: (registry: Registry) => WebhookMetrics = perRegistry((registry) => {
  const attempts = new BoundCounter({
    name: 'keel_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (delivered, gone, retry, failed: out of retries)',
    labelNames: ['outcome'],
    registry,
  })
  const duration = new BoundHistogram({
    name: 'keel_webhook_attempt_duration_seconds',
    help: 'Duration of one webhook delivery attempt, until the receiver answered or it failed',
    labelNames: [],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registry,
  }).labels()
  const byOutcome = {
    delivered: attempts.labels('delivered'),
    gone: attempts.labels('gone'),
    retry: attempts.labels('retry'),
    failed: attempts.labels('failed'),
  }
  return {
    attempt(outcome, seconds) {
      byOutcome[outcome].inc()
      duration.observe(seconds)
    },
  }
})
