import { createColors } from 'picocolors'
import type { LoadtestReport } from './loadtest-report.ts'
import { percentText, statusCodesText } from './number-text.ts'
import type { ScenarioResult } from './scenario-result.ts'

/**
 * The run as a table, one row per scenario with the numbers of its result (the same values
 * `--json` prints), then each failed criterion. Colour only when `isTty`.
 */
export function summaryText(report: LoadtestReport, isTty: boolean): string {
  const colors = createColors(isTty)
  const where =
    report.targetKind === 'entry' ? `${report.target} (the app of ${report.entry})` : report.target
  const lines = [colors.bold(`keel loadtest: ${where}`), '']
  if (!report.reachable) {
    lines.push(
      colors.red(`target ${report.target} is unreachable: ${report.unreachableReason}; no scenario ran`),
    )
    return `${lines.join('\n')}\n`
  }
  const header = [
    'scenario',
    'requests',
    'rps',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'failed',
    'statuses',
    'result',
  ]
  const rows = report.scenarios.map((result) => row(result))
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((r) => r[column]!.length)))
  const format = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')
  lines.push(colors.bold(format(header)))
  for (const [index, result] of report.scenarios.entries()) {
    const cells = rows[index]!
    const verdict = result.passed ? colors.green('pass') : colors.red(colors.bold('FAIL'))
    lines.push(format([...cells.slice(0, -1), verdict]))
    for (const check of result.checks.filter((c) => !c.passed)) lines.push(`  - ${check.text}`)
  }
  const failed = report.scenarios.filter((result) => !result.passed).length
  lines.push(
    '',
    failed === 0
      ? colors.green(
          `all ${report.scenarios.length} scenario${report.scenarios.length === 1 ? '' : 's'} passed`,
        )
      : colors.red(
          `${failed} of ${report.scenarios.length} scenario${report.scenarios.length === 1 ? '' : 's'} failed`,
        ),
  )
  return `${lines.join('\n')}\n`
}

function row(result: ScenarioResult): string[] {
  return [
    result.name,
    String(result.requestsSent),
    String(result.rps),
    String(result.latency.p50Ms),
    String(result.latency.p95Ms),
    String(result.latency.p99Ms),
    String(result.latency.maxMs),
    `${result.failed} (${percentText(result.errorRate)})`,
    statusCodesText(result.statusCodes),
    result.passed ? 'pass' : 'FAIL',
  ]
}
