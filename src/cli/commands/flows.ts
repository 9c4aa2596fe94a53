import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'
import { type FlowsDiffFlags, flowsDiff, flowsDiffHelp } from './flows-diff.ts'
import { type FlowsExportFlags, flowsExport, flowsExportHelp } from './flows-export.ts'

export const flowsHelp = `keel flows: export flow schematics and report drift between two exports

Usage: keel flows export [--entry FILE] [--out FILE|DIR] [--flow NAME] [--profile NAME] [--json]
       keel flows diff OLD.json NEW.json [--allow-compatible] [--json]

  export  write the schematic of every flow (nodes, edges, JSON Schemas) as one JSON document
  diff    compare two exports; breaking changes are those that can break runs in flight

Run keel flows <subcommand> --help for its flags.`

/** What a command prints and the exit code it ends with. */
export interface CommandResult {
  readonly text: string
  readonly code: number
}

/** `keel flows <export|diff>`: dispatches to the subcommand. */
export async function flowsCommand(args: string[], isTty: boolean): Promise<CommandResult> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      return { text: `${flowsHelp}\n`, code: subcommand === undefined ? 2 : 0 }
    case 'export': {
      const { values } = parseFlags(rest, {
        entry: { type: 'string' },
        out: { type: 'string' },
        flow: { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      })
      if (values.help) return { text: `${flowsExportHelp}\n`, code: 0 }
      return { text: await flowsExport(values as FlowsExportFlags), code: 0 }
    }
    case 'diff': {
      const { values, positionals } = parseFlags(
        rest,
        {
          'allow-compatible': { type: 'boolean' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        true,
      )
      if (values.help) return { text: `${flowsDiffHelp}\n`, code: 0 }
      return flowsDiff(positionals, values as FlowsDiffFlags, isTty)
    }
    default:
      throw usageError(`unknown subcommand "flows ${subcommand}" (run keel flows --help)`)
  }
}
