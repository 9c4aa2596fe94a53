import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { deploymentPlan, type GeneratedFile, type GeneratorTarget, generators } from '../../deploy/index.ts'
import { defaultEntry } from '../load-entry.ts'
import { loadAppForDeploy } from '../load-for-deploy.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'
import { writeOutput } from '../write-output.ts'

const targets = Object.keys(generators) as GeneratorTarget[]

export const genHelp = `keel gen: generate deployment artifacts from the app's own description

Usage: keel gen <target>... [--entry FILE] [--profile NAME] [--out DIR] [--check] [--json]

Targets:
  docker         Dockerfile (multi-stage, non-root, HEALTHCHECK) and its .dockerignore
  k8s            kustomize base and overlays (staging, prod): Deployment, Service, HPA, PDB,
                 Ingress, NetworkPolicy, ConfigMap from the effective config, Secret names
  compose        the app with exactly the backing services it uses, plus Prometheus, Grafana
                 and an OpenTelemetry collector (and the observability files it mounts)
  observability  Prometheus scrape config, alert rules from deploy.slos, a Grafana dashboard
  all            every target above

  --entry FILE    the module exporting the app (default: app.ts or src/app.ts here)
  --profile NAME  profile the artifacts are for (default: prod)
  --out DIR       directory the files go under (default: deploy)
  --check         write nothing; exit 1 when a file on disk differs from what would be written
  --json          report { files: [{ path, status }] } as JSON; errors as JSON

Variables keel.yaml needs without a default (secrets) are never read: the artifacts refer to them
by name and the Secret template lists the names only. The same app gives the same bytes.
Exit codes: 0 written (or up to date with --check), 1 the app, a file or --check found a problem,
2 bad arguments.`

export interface GenOutcome {
  readonly text: string
  readonly code: number
}

type FileStatus = 'written' | 'unchanged' | 'differs' | 'missing'

/** Runs `keel gen` with the arguments after the command name. */
export async function genCommand(args: string[]): Promise<GenOutcome> {
  const { values, positionals } = parseFlags(
    args,
    {
      entry: { type: 'string' },
      profile: { type: 'string' },
      out: { type: 'string' },
      check: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  )
  if (values.help) return { text: `${genHelp}\n`, code: 0 }
  const chosen = chooseTargets(positionals)
  for (const flag of ['entry', 'profile', 'out'] as const) {
    if (values[flag] === '') throw usageError(`--${flag} needs a value`)
  }
  const out = (values.out as string | undefined) ?? 'deploy'
  const entry = (values.entry as string | undefined) ?? defaultEntry()
  const app = await loadAppForDeploy(entry, (values.profile as string | undefined) ?? 'prod')
  const plan = deploymentPlan(app, { entry })
  const files = uniqueByPath(chosen.flatMap((target) => generators[target](plan)))
  const results: Array<{ path: string; status: FileStatus }> = []
  for (const file of files) {
    const status = values.check ? await compare(out, file) : await write(out, file)
    results.push({ path: join(out, file.path), status })
  }
  const stale = results.filter((r) => r.status === 'differs' || r.status === 'missing')
  const code = values.check && stale.length > 0 ? 1 : 0
  if (values.json)
    return { text: `${JSON.stringify({ profile: plan.profile, files: results }, null, 2)}\n`, code }
  const lines = results.map((r) => `${r.status.padEnd(9)} ${r.path}`)
  const summary = values.check
    ? stale.length > 0
      ? `${stale.length} of ${results.length} files are out of date: run keel gen ${chosen.join(' ')} --profile ${plan.profile} --out ${out}`
      : `${results.length} files up to date`
    : `${results.length} files for profile ${plan.profile} under ${out}`
  return { text: `${lines.join('\n')}\n${summary}\n`, code }
}

/** Targets may share files (compose writes the observability files it mounts): each path once. */
function uniqueByPath(files: GeneratedFile[]): GeneratedFile[] {
  const byPath = new Map<string, GeneratedFile>()
  for (const file of files) if (!byPath.has(file.path)) byPath.set(file.path, file)
  return [...byPath.values()]
}

function chooseTargets(positionals: string[]): GeneratorTarget[] {
  if (positionals.length === 0) throw usageError(`keel gen needs a target: ${targets.join(', ')} or all`)
  const chosen = new Set<GeneratorTarget>()
  for (const name of positionals) {
    if (name === 'all') for (const target of targets) chosen.add(target)
    else if ((targets as string[]).includes(name)) chosen.add(name as GeneratorTarget)
    else throw usageError(`unknown target "${name}" (targets: ${targets.join(', ')}, all)`)
  }
  return [...chosen]
}

async function write(out: string, file: GeneratedFile): Promise<FileStatus> {
  const previous = await readFile(join(out, file.path), 'utf8').catch(() => undefined)
  if (previous === file.content) return 'unchanged'
  await writeOutput('--out', join(out, file.path), file.content)
  return 'written'
}

async function compare(out: string, file: GeneratedFile): Promise<FileStatus> {
  const previous = await readFile(join(out, file.path), 'utf8').catch(() => undefined)
  if (previous === undefined) return 'missing'
  return previous === file.content ? 'unchanged' : 'differs'
}
