import { verifyChain } from '../../audit/index.ts'
import { openDb } from '../../data/index.ts'
import {
  closeQuietly,
  type DatabaseFlags,
  databaseFlagsHelp,
  databaseTarget,
  where,
} from '../database-target.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'

export const auditHelp = `keel audit: check the audit trail

Usage: keel audit verify [--url URL | --data-dir DIR] [--profile NAME] [--json]

  verify          walk the whole chain, recompute every hash and name the first entry that
                  does not verify (altered, missing, out of place) or a head that does not match
${databaseFlagsHelp}
  --json          machine-readable output

Exit codes: 0 the chain verifies, 1 it does not (or the trail has no tables), 2 bad arguments.`

/** Runs `keel audit` with the arguments after the command name. */
export async function auditCommand(args: string[]): Promise<{ text: string; code: number }> {
  const { values, positionals } = parseFlags(
    args,
    {
      url: { type: 'string' },
      'data-dir': { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  )
  const flags = values as DatabaseFlags & { json?: boolean; help?: boolean }
  if (flags.help) return { text: `${auditHelp}\n`, code: 0 }
  const [subcommand, ...extra] = positionals
  if (subcommand !== 'verify') {
    throw usageError(
      subcommand === undefined
        ? 'keel audit needs a subcommand: verify'
        : `unknown audit subcommand "${subcommand}"; the only one is verify`,
    )
  }
  if (extra.length > 0) throw usageError(`keel audit verify takes no arguments, got "${extra.join(' ')}"`)
  const target = databaseTarget(flags, 'audit verify')
  const db = await openDb(target)
  try {
    const [tables] = await db.query<{ present: boolean }>(
      `select to_regclass('keel_audit_entries') is not null as present`,
    )
    if (!tables?.present) {
      const message = `no audit trail in ${where(target)}: the table keel_audit_entries does not exist`
      return flags.json
        ? { text: `${JSON.stringify({ ok: false, reason: message }, null, 2)}\n`, code: 1 }
        : { text: `${message}\n`, code: 1 }
    }
    const check = await verifyChain(db)
    if (flags.json) return { text: `${JSON.stringify(check, null, 2)}\n`, code: check.ok ? 0 : 1 }
    if (check.ok) {
      return {
        text: `audit chain verifies: ${check.entries} entries, head ${check.head.hash} (${where(target)})\n`,
        code: 0,
      }
    }
    return {
      text: `audit chain broken at entry ${check.brokenAt}: ${check.reason}\n${check.entries} entries before it verify (${where(target)})\n`,
      code: 1,
    }
  } finally {
    await closeQuietly(db)
  }
}
