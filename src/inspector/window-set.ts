import { SlidingWindow, type WindowStats } from './sliding-window.ts'

/** What one series is about: a route (`GET /users/:id`) or a flow step (`order` / `charge`). */
export type SeriesLabels = Readonly<Record<string, string>>

/** A series' labels and its window, as `/v1/metrics` lists them. */
export interface SeriesStats {
  readonly key: string
  readonly labels: SeriesLabels
  readonly window: WindowStats
}

/** The key of the series that gathers everything past `maxSeries`. */
export const overflowKey = '(other)'

interface Series {
  readonly key: string
  readonly labels: SeriesLabels
  readonly window: SlidingWindow
}

/**
 * Sliding windows keyed by two names (a route and its method; a flow and its step), at most
 * `maxSeries` of them: past the limit (routes are templates, so only an app with thousands of
 * routes gets there) traffic is recorded under `(other)`. Two-level maps rather than a joined
 * key: the names are the same string objects request after request, so lookups hash nothing
 * new and build no string.
 */
export class WindowSet {
  readonly #series = new Map<string, Map<string, Series>>()
  readonly #all: Series[] = []
  readonly #bucketMs: number
  readonly #buckets: number
  readonly #maxSeries: number
  readonly #describe: (a: string, b: string) => { key: string; labels: SeriesLabels }
  #overflow: Series | undefined

  /** `describe` names a new series: its key in the API and its labels. */
  constructor(options: {
    bucketMs: number
    buckets: number
    maxSeries: number
    describe: (a: string, b: string) => { key: string; labels: SeriesLabels }
  }) {
    this.#bucketMs = options.bucketMs
    this.#buckets = options.buckets
    this.#maxSeries = options.maxSeries
    this.#describe = options.describe
  }

  record(a: string, b: string, nowMs: number, durationMs: number, isError: boolean): void {
    let inner = this.#series.get(a)
    let series = inner?.get(b)
    if (!series) {
      if (this.#all.length >= this.#maxSeries) {
        this.#overflow ??= this.#create(overflowKey, { key: overflowKey })
        series = this.#overflow
      } else {
        const { key, labels } = this.#describe(a, b)
        series = this.#create(key, labels)
        if (!inner) {
          inner = new Map()
          this.#series.set(a, inner)
        }
        inner.set(b, series)
      }
    }
    series.window.record(nowMs, durationMs, isError)
  }

  /** The window of one series, if it has seen traffic. */
  get(a: string, b: string, nowMs: number, options: { series?: boolean } = {}): WindowStats | undefined {
    return this.#series.get(a)?.get(b)?.window.stats(nowMs, options)
  }

  list(nowMs: number, options: { series?: boolean } = {}): SeriesStats[] {
    const all = this.#overflow ? [...this.#all, this.#overflow] : this.#all
    return all.map(({ key, labels, window }) => ({ key, labels, window: window.stats(nowMs, options) }))
  }

  #create(key: string, labels: SeriesLabels): Series {
    const series = { key, labels, window: new SlidingWindow(this.#bucketMs, this.#buckets) }
    if (key !== overflowKey) this.#all.push(series)
    return series
  }
}
