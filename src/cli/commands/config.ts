import { describeSource, type LoadedConfig, loadConfig, redactSecret } from '../../config/index.ts'
import { redactUrl } from '../../log/index.ts'
import { loadEntry, withProfile } from '../load-entry.ts'
import { bold, table } from '../table.ts'

export const configHelp = `keel config: print the effective configuration and where each value came from

Usage: keel config [--profile NAME] [--root DIR] [--entry FILE] [--json]

  --profile NAME  profile to apply (default: KEEL_PROFILE, else dev)
  --root DIR      service root holding keel.yaml (default: current directory)
  --entry FILE    the module exporting the app, so its modules' config sections are checked too
  --json          machine-readable output

Secrets (fields marked secret, credentials in URLs) are shown as [REDACTED].
Exit codes: 0 valid, 1 invalid configuration, 2 bad arguments.`

export interface ConfigFlags {
  profile?: string
  root?: string
  entry?: string
  json?: boolean
}

/** Loads the configuration as the app would and renders it, secrets redacted. */
export async function configCommand(flags: ConfigFlags, isTty: boolean): Promise<string> {
  const config: LoadedConfig<unknown> = flags.entry
    ? await entryConfig(flags.entry, flags.profile)
    : loadConfig({ root: flags.root, profile: flags.profile })
  const entries = config.entries().map((e) => ({
    key: e.key,
    // Values not marked secret still lose credentials that sit inside a URL.
    value: e.isSecret ? redactSecret(e.value) : typeof e.value === 'string' ? redactUrl(e.value) : e.value,
    source: describeSource(e.source),
  }))
  if (flags.json)
    return JSON.stringify({ profile: config.profile, file: config.file ?? null, entries }, null, 2)
  const header = `profile ${bold(config.profile, isTty)}, file ${config.file ?? '(none: defaults and environment only)'}`
  const rows = [
    ['KEY', 'VALUE', 'SOURCE'],
    ...entries.map((e) => [e.key, JSON.stringify(e.value) ?? '', e.source]),
  ]
  return `${header}\n\n${table(rows)}`
}

/** The strictly checked configuration of the app an entry module builds, in `profile`. */
function entryConfig(entry: string, profile: string | undefined): Promise<LoadedConfig<unknown>> {
  return withProfile(profile, async () => (await loadEntry(entry)).checkConfig())
}
