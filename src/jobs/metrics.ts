import type { Registry } from 'prom-client'
import {
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  type CounterChild,
  type HistogramChild,
  perRegistry,
} from '../telemetry/index.ts'

/** Job durations: 1 ms to 15 min, since jobs range from a cache write to a report build. */
const jobBuckets = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900]

/** How an attempt ended: done, failed with retries left, or failed for good (a dead letter). */
export type JobOutcome = 'completed' | 'retried' | 'failed'

/** The counters of one queue, bound once. */
export interface QueueMetrics {
  attempt(outcome: JobOutcome, seconds: number): void
  readonly active: CounterChild
}

/** Jobs by queue and state, as one source (a jobs module) reports them. */
export type QueueDepthSource = () => Promise<readonly { queue: string; state: string; count: number }[]>

/** Job metrics on one registry, shared by every jobs module on it. */
export interface JobMetrics {
  queue(name: string): QueueMetrics
  /** Adds a source of queue depths, read on scrape; returns its removal. */
  addDepthSource(source: QueueDepthSource): () => void
}

/** The job metrics of `registry`, created on first use. */
export const jobMetrics: (registry: Registry) => JobMetrics = perRegistry(createJobMetrics)

function createJobMetrics(registry: Registry): JobMetrics {
  const processed = new BoundCounter({
    name: 'keel_jobs_processed_total',
    help: 'Job attempts this process finished, by queue and outcome (completed, retried, failed = dead letter)',
    labelNames: ['queue', 'outcome'],
    registry,
  })
  const duration = new BoundHistogram({
    name: 'keel_jobs_duration_seconds',
    help: 'Duration of one job attempt',
    labelNames: ['queue'],
    buckets: jobBuckets,
    registry,
  })
  const active = new BoundGauge({
    name: 'keel_jobs_active',
    help: 'Jobs this process is running now',
    labelNames: ['queue'],
    registry,
  })
  const sources = new Set<QueueDepthSource>()
  registry.registerMetric(new QueueDepthGauge(sources) as never)
  const bound = new Map<string, QueueMetrics>()
  return {
    queue(name) {
      let metrics = bound.get(name)
      if (!metrics) {
        const children: Record<JobOutcome, CounterChild> = {
          completed: processed.labels(name, 'completed'),
          retried: processed.labels(name, 'retried'),
          failed: processed.labels(name, 'failed'),
        }
        const seconds: HistogramChild = duration.labels(name)
        metrics = {
          attempt(outcome, s) {
            children[outcome].inc()
            seconds.observe(s)
          },
          active: active.labels(name),
        }
        bound.set(name, metrics)
      }
      return metrics
    },
    addDepthSource(source) {
      sources.add(source)
      return () => sources.delete(source)
    },
  }
}

/**
 * `keel_jobs_queue_depth{queue,state}`: read from the database when the registry renders (each
 * source caches its counts for a few seconds, so a busy scraper costs one grouped count query
 * per interval). A source that fails keeps its series out of that scrape rather than failing it.
 */
class QueueDepthGauge {
  readonly name = 'keel_jobs_queue_depth'
  readonly help =
    'Jobs in the database by queue and state (created, retry, active, completed, cancelled, failed)'
  readonly type = 'gauge'
  readonly aggregator = 'first'
  readonly #sources: Set<QueueDepthSource>

  constructor(sources: Set<QueueDepthSource>) {
    this.#sources = sources
  }

  async get() {
    const settled = await Promise.allSettled([...this.#sources].map((source) => source()))
    const values = settled.flatMap((result) =>
      result.status === 'fulfilled'
        ? result.value.map(({ queue, state, count }) => ({ labels: { queue, state }, value: count }))
        : [],
    )
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  reset(): void {}
}
