import { resolve } from 'node:path'
import { createColors } from 'picocolors'
import {
  type CheckStatus,
  checkReadiness,
  type ReadinessReport,
  readinessChecks,
} from '../../deploy/check/index.ts'
import { defaultEntry } from '../load-entry.ts'
import { loadAppForDeploy } from '../load-for-deploy.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'

export const checkHelp = `keel check: report a profile's production readiness

Usage: keel check [--entry FILE] [--profile NAME] [--database-url URL] [--migrations DIR]
                  [--strict] [--json]

  --entry FILE         the module exporting the app (default: app.ts or src/app.ts here)
  --profile NAME       profile to judge (default: prod)
  --database-url URL   PostgreSQL to look for pending or edited migrations in (default:
                       DATABASE_URL when set); read-only. Without one that item warns.
  --migrations DIR     directory of the migration files (default: migrations in the app's root)
  --strict             warnings fail too (exit 1)
  --json               print { profile, service, items: [{ id, status, message, hint }], summary }

Items, each pass, warn, fail or skip (does not apply) with a one-line reason and a fix:
${readinessChecks.map((c) => `  ${c.id.padEnd(18)} ${c.title}`).join('\n')}

Variables keel.yaml needs without a default (the secrets) are never read.
Exit codes: 0 no item failed (warnings allowed unless --strict), 1 an item failed or the app
could not be loaded, 2 bad arguments.`

/** Runs `keel check` with the arguments after the command name. */
export async function checkCommand(args: string[], isTty: boolean): Promise<{ text: string; code: number }> {
  const { values } = parseFlags(args, {
    entry: { type: 'string' },
    profile: { type: 'string' },
    'database-url': { type: 'string' },
    migrations: { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return { text: `${checkHelp}\n`, code: 0 }
  for (const flag of ['entry', 'profile', 'database-url', 'migrations'] as const) {
    if (values[flag] === '') throw usageError(`--${flag} needs a value`)
  }
  const databaseUrl = values['database-url'] as string | undefined
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw usageError('--database-url: expected a postgres:// or postgresql:// URL')
  const entry = (values.entry as string | undefined) ?? defaultEntry()
  const app = await loadAppForDeploy(entry, (values.profile as string | undefined) ?? 'prod')
  const migrations = values.migrations as string | undefined
  const report = await checkReadiness(app, {
    entry,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(migrations ? { migrationsDir: resolve(migrations) } : {}),
  })
  const isFailing = report.summary.fail > 0 || (values.strict === true && report.summary.warn > 0)
  const code = isFailing ? 1 : 0
  if (values.json) {
    const items = report.items.map((i) => ({
      id: i.id,
      status: i.status,
      message: i.message,
      hint: i.hint ?? null,
    }))
    return { text: `${JSON.stringify({ ...report, items }, null, 2)}\n`, code }
  }
  return { text: render(report, entry, isTty), code }
}

function render(report: ReadinessReport, entry: string, isTty: boolean): string {
  const colors = createColors(isTty)
  const paint: Record<CheckStatus, (text: string) => string> = {
    pass: colors.green,
    warn: colors.yellow,
    fail: colors.red,
    skip: colors.dim,
  }
  const idWidth = Math.max(...report.items.map((i) => i.id.length))
  const lines = [colors.bold(`keel check: ${report.service}, profile ${report.profile} (${entry})`), '']
  for (const item of report.items) {
    // Padded before colouring: escape codes have length but no width.
    lines.push(`${paint[item.status](item.status.padEnd(4))}  ${item.id.padEnd(idWidth)}  ${item.message}`)
    if (item.hint) lines.push(`${' '.repeat(idWidth + 8)}fix: ${item.hint}`)
  }
  const { pass, warn, fail, skip } = report.summary
  lines.push('', `${pass} pass, ${warn} warn, ${fail} fail, ${skip} skip`)
  return `${lines.join('\n')}\n`
}
