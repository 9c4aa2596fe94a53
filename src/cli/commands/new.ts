import { relative, resolve } from 'node:path'
import { parseFlags } from '../parse-flags.ts'
import { serviceName } from '../scaffold/service-name.ts'
import { writeScaffold } from '../scaffold/write-scaffold.ts'
import { usageError } from '../usage-error.ts'

export const newHelp = `keel new: scaffold a service that runs with npm start

Usage: keel new <name> [--dir DIR] [--json]

  <name>      npm package name (my-service or @acme/my-service); without the scope it must be a
              DNS label (lower-case letters, digits, dashes; at most 63), since it names the
              Deployment, the Service and the image
  --dir DIR   where to write (default: ./<name without scope>); must not exist or be empty
  --json      print { name, dir, files } as JSON; errors as JSON

Writes package.json (depending on this keel's version and tsx), keel.yaml with a prod profile,
app.ts with a typed route, main.ts, app.test.ts, tsconfig.json, .gitignore and README.md.
Exit codes: 0 written, 1 the directory is not empty or cannot be written, 2 bad arguments.`

/** Runs `keel new` with the arguments after the command name. */
export async function newCommand(args: string[], _isTty: boolean): Promise<{ text: string; code: number }> {
  const { values, positionals } = parseFlags(
    args,
    { dir: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  )
  if (values.help) return { text: `${newHelp}\n`, code: 0 }
  if (positionals.length === 0) throw usageError('keel new needs a name: keel new my-service')
  if (positionals.length > 1)
    throw usageError(`keel new takes one name, got ${positionals.length}: ${positionals.join(' ')}`)
  if (values.dir === '') throw usageError('--dir needs a value')
  const name = serviceName(positionals[0]!)
  const dir = resolve((values.dir as string | undefined) ?? name.label)
  const files = await writeScaffold(dir, name)
  // Relative when inside the working directory, where `cd` is short; absolute elsewhere.
  const inside = relative(process.cwd(), dir)
  const shown = inside === '' ? '.' : inside.startsWith('..') ? dir : inside
  if (values.json)
    return { text: `${JSON.stringify({ name: name.packageName, dir, files }, null, 2)}\n`, code: 0 }
  const lines = [
    `created ${name.packageName} in ${shown}:`,
    ...files.map((file) => `  ${file}`),
    '',
    'next:',
    ...(shown === '.' ? [] : [`  cd ${shown}`]),
    '  npm install',
    '  npm start          # http://localhost:3000/hello/world',
    '  npm run check      # production readiness of the prod profile',
  ]
  return { text: `${lines.join('\n')}\n`, code: 0 }
}
