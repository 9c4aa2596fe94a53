import { FormatRegistry } from '@sinclair/typebox'

// TypeBox knows no string formats until they are registered, and fails every value of an
// unknown format. These are the JSON Schema formats APIs use most; the patterns are the
// pragmatic ones (RFC-complete email or URI grammars reject nothing real and cost a lot).
const formats: Record<string, (value: string) => boolean> = {
  email: (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) && v.length <= 254,
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  'date-time': (v) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) &&
    !Number.isNaN(Date.parse(v)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)),
  time: (v) => /^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i.test(v),
  uri: (v) => {
    try {
      return new URL(v).protocol.length > 1
    } catch {
      return false
    }
  },
  ipv4: (v) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v),
  ipv6: (v) => v.includes(':') && URL.canParse(`http://[${v}]/`),
}

/** Registers the string formats Keel validates (`email`, `uuid`, `date-time`, `date`, `time`, `uri`, `ipv4`, `ipv6`). Idempotent. */
export function registerFormats(): void {
  for (const [name, check] of Object.entries(formats))
    if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check)
}
