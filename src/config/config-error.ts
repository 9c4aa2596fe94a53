import type { KeelErrorCode } from '../errors/index.ts'
import { KeelError } from '../errors/index.ts'
import { describeSource, type ValueSource } from './source.ts'

/** One thing wrong with the configuration, located by key path and source. */
export interface ConfigIssue {
  code: KeelErrorCode
  /** Dotted key path, e.g. `server.port`; empty for the whole file. */
  key: string
  message: string
  source?: ValueSource
}

/** Formats an issue the way the CLI and start-up print it: `keel.yaml:12 server.port: expected integer, got "80a"`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.source ? describeSource(issue.source) : undefined
  const subject = issue.key ? `${issue.key}: ${issue.message}` : issue.message
  if (!where) return subject
  if (issue.source?.kind === 'file' || issue.source?.kind === 'profile') return `${where} ${subject}`
  return `${subject} (from ${where})`
}

/** Raised when configuration cannot be loaded; lists every issue found, not only the first. */
export class ConfigError extends KeelError {
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0]
    const code = issues.every((i) => i.code === first?.code) && first ? first.code : 'KEEL_CONFIG_INVALID'
    const lines = issues.map((issue) => `  - ${formatIssue(issue)}`)
    super(code, `config: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${lines.join('\n')}`)
    this.name = 'ConfigError'
    this.issues = issues
  }
}
