/** Rows as aligned columns; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n')
}

/** Bold text on a terminal, plain text elsewhere (pipes, CI logs, --json). */
export const bold = (text: string, isTty: boolean) => (isTty ? `\x1b[1m${text}\x1b[22m` : text)
