/** A label matcher: `=` and `!=` take a value, `=~` and `!~` a regular expression. */
export type Matcher = readonly [label: string, op: '=' | '!=' | '=~' | '!~', value: string]

/** `name{a="x",b=~"y"}` with every value quoted and escaped for PromQL. */
export function selector(name: string, matchers: readonly Matcher[]): string {
  if (matchers.length === 0) return name
  return `${name}{${matchers.map(([label, op, value]) => `${label}${op}${quoted(value)}`).join(',')}}`
}

/** A PromQL double-quoted string literal. */
export const quoted = (value: string): string =>
  `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`

/** A regular expression (RE2, fully anchored by Prometheus) matching exactly one of `values`. */
export const oneOf = (values: readonly string[]): string =>
  values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')

/** A number as PromQL and YAML write it: no float noise (`0.0010000000000000009` → `0.001`). */
export const decimal = (value: number): string => String(Number(value.toPrecision(12)))
