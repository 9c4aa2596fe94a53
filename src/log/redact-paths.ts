import pino from 'pino'

const discard = { write() {} }

/**
 * Every `log.redact` path pino would refuse, phrased for a config error. Empty when all are
 * valid. Checked at config load so a typo fails with the key's source, not a pino stack trace.
 */
export function redactPathProblems(paths: readonly string[]): string[] {
  const problems: string[] = []
  for (const path of paths) {
    try {
      pino({ redact: [path] }, discard)
    } catch {
      problems.push(`invalid redact path "${path}" (use dotted keys, [0] indexes, ["quoted-key"] or *)`)
    }
  }
  return problems
}
