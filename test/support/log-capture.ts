/** A pino destination that keeps every line, for assertions on log content. */
export class LogCapture {
  readonly lines: string[] = []

  write(line: string): void {
    for (const part of line.split('\n')) if (part) this.lines.push(part)
  }

  /** Every line parsed as JSON. */
  get records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  }

  /** The whole output as one string, for scanning. */
  get text(): string {
    return this.lines.join('\n')
  }
}
