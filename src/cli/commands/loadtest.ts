import { dirname } from 'node:path'
import { loadConfig } from '../../config/index.ts'
import type { LoadtestScenarioConfig } from '../../config/loadtest-section.ts'
import {
  type EntryApp,
  htmlReport,
  importEntryApp,
  type LoadtestReport,
  ProgressDisplay,
  readScenarioFile,
  runLoadtest,
  type Scenario,
  scenariosFrom,
  summaryText,
} from '../../loadtest/index.ts'
import { defaultEntry } from '../load-entry.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'
import { writeOutput } from '../write-output.ts'

export const loadtestHelp = `keel loadtest: run load scenarios and judge them against pass/fail criteria

Usage: keel loadtest [--entry FILE | --url URL] [--file FILE] [--scenario NAME] [--duration SECONDS]
                     [--connections N] [--profile NAME] [--json] [--report FILE.html] [--out FILE.json]

Scenarios come from keel.yaml (loadtest.scenarios) or from --file. Without --url the command
starts the app of --entry itself on 127.0.0.1 and a free port, runs the scenarios against it and
stops it; load goes to another host only when you name it with --url. See docs/loadtest.md.

  --entry FILE        the app's entry module (default: app.ts, src/app.ts, app.js or src/app.js);
                      with --url, only where keel.yaml is looked for (beside the entry)
  --url URL           send load to this running service instead (any host: you named it)
  --file FILE         scenarios from this YAML file (a top-level scenarios: mapping) instead of keel.yaml
  --scenario NAME     run only this scenario
  --duration SECONDS  run every scenario this long (replaces durationSeconds and amount)
  --connections N     use N connections in every scenario
  --profile NAME      config profile for keel.yaml and the app (default: KEEL_PROFILE, else dev)
  --json              print the full results as JSON (no table, no live progress)
  --report FILE.html  also write a self-contained HTML report (charts inline, nothing external)
  --out FILE.json     also write the JSON results to a file

A live progress line per scenario goes to stderr on a terminal.
Exit codes: 0 every scenario passed its criteria, 1 a criterion failed, the target was
unreachable or the scenarios are invalid, 2 bad arguments.`

interface LoadtestFlags {
  entry?: string
  url?: string
  file?: string
  scenario?: string
  duration?: string
  connections?: string
  profile?: string
  json?: boolean
  report?: string
  out?: string
  help?: boolean
}

/** Runs `keel loadtest` with the arguments after the command name. */
export async function loadtestCommand(
  args: string[],
  isTty: boolean,
): Promise<{ text: string; code: number }> {
  const { values } = parseFlags(args, {
    entry: { type: 'string' },
    url: { type: 'string' },
    file: { type: 'string' },
    scenario: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean' },
    report: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  const flags = values as LoadtestFlags
  if (flags.help) return { text: `${loadtestHelp}\n`, code: 0 }

  const url = flags.url === undefined ? undefined : targetUrl(flags.url)
  const overrides = {
    durationSeconds: positiveNumber('--duration', flags.duration, false),
    connections: positiveNumber('--connections', flags.connections, true),
  }
  const entryApp = url ? undefined : await importEntryApp(flags.entry ?? defaultEntry(), flags.profile)
  const scenarios = chooseScenarios(
    scenariosFrom(scenarioConfigs(flags, entryApp), overrides),
    flags.scenario,
  )

  const display =
    isTty && !flags.json && process.stderr.isTTY ? new ProgressDisplay(process.stderr) : undefined
  let report: LoadtestReport
  const target = url ?? (await entryApp!.start())
  try {
    report = await runLoadtest(scenarios, {
      target,
      targetKind: url ? 'url' : 'entry',
      entry: entryApp?.entry,
      onProgress: display && ((progress) => display.update(progress)),
      onScenarioDone: display && (() => display.finishLine()),
    })
  } finally {
    await entryApp?.stop()
  }

  const json = `${JSON.stringify(report, null, 2)}\n`
  if (flags.out) await writeOutput('--out', flags.out, json)
  if (flags.report) await writeOutput('--report', flags.report, htmlReport(report))
  return { text: flags.json ? json : summaryText(report, isTty), code: report.passed ? 0 : 1 }
}

/** `--url`: an http(s) URL; its path prefixes every request path. */
function targetUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw usageError(`--url ${text}: not a URL (write it whole, e.g. http://127.0.0.1:3000)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`--url ${text}: must be an http:// or https:// URL`)
  if (url.search || url.hash)
    throw usageError(`--url ${text}: give the base URL only; queries belong to the request paths`)
  return url.href.replace(/\/$/, '')
}

function positiveNumber(flag: string, text: string | undefined, isInteger: boolean): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || (isInteger && !Number.isInteger(value)))
    throw usageError(`${flag} ${text}: expected a ${isInteger ? 'whole ' : ''}number greater than 0`)
  return value
}

/** The `scenarios` mapping: from --file, else from the started app's config or keel.yaml. */
function scenarioConfigs(
  flags: LoadtestFlags,
  entryApp: EntryApp | undefined,
): Readonly<Record<string, LoadtestScenarioConfig>> {
  if (flags.file) return readScenarioFile(flags.file).scenarios
  if (entryApp) return entryApp.app.config.values.loadtest.scenarios
  const root = flags.entry ? dirname(flags.entry) : process.cwd()
  return loadConfig({ root, profile: flags.profile, ignoreUnknownSections: true }).values.loadtest.scenarios
}

function chooseScenarios(scenarios: Scenario[], only: string | undefined): Scenario[] {
  if (scenarios.length === 0)
    throw usageError(
      'no scenarios to run: add loadtest.scenarios to keel.yaml or pass --file FILE (see docs/loadtest.md)',
    )
  const chosen = only === undefined ? scenarios : scenarios.filter((scenario) => scenario.name === only)
  if (chosen.length === 0)
    throw usageError(
      `--scenario ${only}: no such scenario (scenarios: ${scenarios.map((scenario) => scenario.name).join(', ')})`,
    )
  for (const scenario of chosen) {
    if (scenario.amount !== undefined && scenario.amount < scenario.connections)
      throw usageError(
        `--connections ${scenario.connections}: more than the ${scenario.amount} requests scenario ${scenario.name} sends (amount)`,
      )
  }
  return chosen
}
