import { ConfigError, formatIssue } from '../config/index.ts'
import { isKeelError } from '../errors/index.ts'
import { auditCommand } from './commands/audit.ts'
import { buildCommand } from './commands/build.ts'
import { checkCommand } from './commands/check.ts'
import { configCommand, configHelp } from './commands/config.ts'
import { flowsCommand } from './commands/flows.ts'
import { genCommand } from './commands/gen.ts'
import { jobsCommand } from './commands/jobs.ts'
import { loadtestCommand } from './commands/loadtest.ts'
import { migrateCommand } from './commands/migrate.ts'
import { newCommand } from './commands/new.ts'
import { type OpenApiFlags, openapiCommand, openapiHelp } from './commands/openapi.ts'
import { validateCommand } from './commands/validate.ts'
import { parseFlags } from './parse-flags.ts'
import { usageError } from './usage-error.ts'

const help = `keel: the Keel toolchain

Usage: keel <command> [flags]

Commands:
  config     print the effective configuration with the source of each value
  openapi    write the app's OpenAPI 3.1 document
  flows      export flow schematics; report drift between two exports
  migrate    apply, roll back (--rollback) or list (--status) the app's migration files
  jobs       list the job queues with their jobs by state (dead letters included)
  validate   check the resource files (resources/*.yaml), naming file, line and key of each issue
  audit      verify the audit trail's hash chain
  new        scaffold a new service that runs with npm start
  build      bundle the service into dist/ with a production package.json
  gen        generate Docker, Kubernetes, Compose and observability artifacts from the app
  check      report a profile's production readiness (pass, warn, fail per item)
  loadtest   run load scenarios and judge them against pass/fail criteria

Run keel <command> --help for a command's flags.
Exit codes: 0 success, 1 the command found a problem, 2 bad arguments.`

/** Commands that answer with their text and exit code; the others are spelled out in {@link main}. */
const outcomeCommands: Readonly<
  Record<string, (args: string[], isTty: boolean) => Promise<{ text: string; code: number }>>
> = {
  flows: flowsCommand,
  migrate: (args) => migrateCommand(args),
  jobs: (args) => jobsCommand(args),
  validate: (args) => validateCommand(args),
  audit: (args) => auditCommand(args),
  gen: (args) => genCommand(args),
  build: buildCommand,
  new: newCommand,
  check: checkCommand,
  loadtest: loadtestCommand,
}

/** Where the CLI writes; `isTTY` turns on emphasis. Any writable stream works (tests pass their own). */
export type CliOutput = NodeJS.WritableStream & { isTTY?: boolean }

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(
  argv: string[],
  out: CliOutput = process.stdout,
  err: CliOutput = process.stderr,
): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        out.write(`${help}\n`)
        return command === undefined ? 2 : 0
      case 'config': {
        const { values } = parseFlags(rest, {
          profile: { type: 'string' },
          root: { type: 'string' },
          entry: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        })
        if (values.help) {
          out.write(`${configHelp}\n`)
          return 0
        }
        out.write(`${await configCommand(values as Record<string, string>, Boolean(out.isTTY))}\n`)
        return 0
      }
      case 'openapi': {
        const { values } = parseFlags(rest, {
          entry: { type: 'string' },
          out: { type: 'string' },
          profile: { type: 'string' },
          'include-internal': { type: 'boolean' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        })
        if (values.help) {
          out.write(`${openapiHelp}\n`)
          return 0
        }
        out.write(await openapiCommand(values as OpenApiFlags))
        return 0
      }
      default: {
        const run = Object.hasOwn(outcomeCommands, command) ? outcomeCommands[command] : undefined
        if (!run) throw usageError(`unknown command "${command}" (run keel --help)`)
        const { text, code } = await run(rest, Boolean(out.isTTY))
        out.write(text)
        return code
      }
    }
  } catch (error) {
    return report(error, argv.includes('--json'), out, err)
  }
}

function report(
  error: unknown,
  json: boolean,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  const code = isKeelError(error) && error.code === 'KEEL_CLI_USAGE' ? 2 : 1
  if (json && error instanceof ConfigError) {
    out.write(
      `${JSON.stringify({ error: error.code, issues: error.issues.map((i) => ({ ...i, text: formatIssue(i) })) }, null, 2)}\n`,
    )
  } else if (json && isKeelError(error)) {
    out.write(`${JSON.stringify({ error: error.code, message: error.message })}\n`)
  } else if (isKeelError(error)) {
    err.write(`keel: ${error.message}\n`)
  } else {
    err.write(`keel: unexpected error: ${(error as Error)?.stack ?? error}\n`)
  }
  return code
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = await main(process.argv.slice(2))
}
