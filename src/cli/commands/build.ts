import { createColors } from 'picocolors'
import { type BuildReport, buildService } from '../../deploy/build/index.ts'
import { defaultEntry } from '../load-entry.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'

export const buildHelp = `keel build: bundle the service into one folder that runs with node server.mjs

Usage: keel build [--entry FILE] [--out DIR] [--copy PATH]... [--external PKG]... [--minify] [--json]

  --entry FILE    the module exporting the app (default: app.ts or src/app.ts here); the build
                  writes the server entry that starts it (no main file needed)
  --out DIR       output folder (default: dist); emptied first, refused when it holds other files
  --copy PATH     a file or folder the app reads at run time, besides keel.yaml, resources/,
                  migrations/ and public/ (copied when present); repeat for more
  --external PKG  leave a package to node_modules (native addons, packages reading their own
                  files at run time); repeat for more
  --minify        minify the bundle (names are kept, so logs and errors read the same)
  --json          print the summary as JSON: { entry, out, service, server, dependencies,
                  hasLockfile, optional, copied, warnings }; errors as JSON

The folder holds server.mjs and its source map, the copied files, a package.json listing
exactly the packages the bundle loads from node_modules at their installed versions, and the
part of the project's package-lock.json that pins them. Then:
  cd dist && npm ci --omit=dev && node --enable-source-maps server.mjs
Exit codes: 0 built, 1 the entry does not bundle or the folder cannot be written, 2 bad arguments.`

// `multiple` is parseArgs' own option; FlagSpec does not spell it, so the spec is declared apart.
const flags = {
  entry: { type: 'string' },
  out: { type: 'string' },
  copy: { type: 'string', multiple: true },
  external: { type: 'string', multiple: true },
  minify: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Runs `keel build` with the arguments after the command name. */
export async function buildCommand(args: string[], isTty: boolean): Promise<{ text: string; code: number }> {
  const { values } = parseFlags(args, flags)
  if (values.help) return { text: `${buildHelp}\n`, code: 0 }
  const copy = (values.copy ?? []) as unknown as string[]
  const external = (values.external ?? []) as unknown as string[]
  for (const flag of ['entry', 'out'] as const) {
    if (values[flag] === '') throw usageError(`--${flag} needs a value`)
  }
  if (copy.includes('')) throw usageError('--copy needs a value')
  for (const name of external) {
    if (!/^(@[\w.-]+\/)?[\w.-]+$/.test(name)) throw usageError(`--external ${name}: expected a package name`)
  }
  const colors = createColors(isTty)
  const report = await buildService({
    entry: (values.entry as string | undefined) ?? defaultEntry(),
    out: values.out as string | undefined,
    copy,
    external,
    minify: values.minify === true,
    // Progress goes to the terminal only: piped output stays the summary alone.
    onProgress: isTty ? (step) => process.stderr.write(colors.dim(`keel build: ${step}…\n`)) : undefined,
  })
  if (values.json) return { text: `${JSON.stringify(report, null, 2)}\n`, code: 0 }
  return { text: summary(report, colors), code: 0 }
}

function summary(report: BuildReport, colors: ReturnType<typeof createColors>): string {
  const dependencies = Object.entries(report.dependencies).map(([name, version]) => `${name} ${version}`)
  const copied = report.copied.map((c) =>
    c.kind === 'file' ? c.to : `${c.to}/ (${plural(c.files, 'file')})`,
  )
  const lines = [
    `${colors.bold(`built ${report.service.name} ${report.service.version}`)} from ${report.entry} into ${report.out}/`,
    `  server.mjs    ${size(report.server.sizeBytes)} (source map server.mjs.map ${size(report.server.sourceMapBytes)})`,
    `  dependencies  ${dependencies.join(', ') || 'none'}`,
  ]
  if (report.optional.length > 0)
    lines.push(`  optional      ${report.optional.join(', ')} (not installed; the code runs without them)`)
  lines.push(`  copied        ${copied.join(', ') || 'nothing'}`)
  for (const warning of report.warnings) lines.push(colors.yellow(`  warning       ${warning}`))
  // Without a lockfile (the build said why) npm resolves the versions again.
  const install = report.hasLockfile ? 'npm ci --omit=dev' : 'npm install --omit=dev'
  lines.push(`next: cd ${report.out} && ${install} && node --enable-source-maps server.mjs`, '')
  return lines.join('\n')
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
