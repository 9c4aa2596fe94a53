import { findSamples, parsePrometheusText, type Sample } from '../support/prometheus-text.ts'

/** The samples `/metrics` of the app at `url` serves now. */
export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers: { connection: 'close' } })
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
  return parsePrometheusText(await res.text())
}

/**
 * The value of the one series `name{labels}`; undefined when there is none. Throws when the
 * labels match several series, so a test never reads the wrong one.
 */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const found = findSamples(samples, name, labels)
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`)
  return found[0]?.value
}

/** Every series of `name`, as `label=value,… → value`, sorted: for whole-metric assertions. */
export function seriesOf(samples: Sample[], name: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of findSamples(samples, name)) {
    const key = Object.entries(s.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
    out[key] = s.value
  }
  return out
}

/** Polls `read` until `accept` holds (or 5 s pass, then returns the last value for the assertion to fail on). */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  let value = await read()
  for (let i = 0; i < 100 && !accept(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    value = await read()
  }
  return value
}
