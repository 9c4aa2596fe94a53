/** One thing wrong with a resource file, located precisely enough to jump to it. */
export interface ResourceIssue {
  /** The file, as shown to users (relative to the working directory when inside it). */
  readonly file: string
  /** 1-based line of the offending key or value; 1 for problems of the whole file. */
  readonly line: number
  /** 1-based column. */
  readonly column: number
  /** The key path, e.g. `endpoints.list.filters[1]`; empty for the whole file. */
  readonly path: string
  /** What is wrong. */
  readonly message: string
  /** How to fix it: the likely intended name, the allowed values, or the rule to follow. */
  readonly hint: string
}

/** One segment of a key path: a mapping key or a list index. */
export type PathSegment = string | number

/** `['endpoints', 'list', 'filters', 1]` → `endpoints.list.filters[1]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (/^[\w-]+$/.test(segment)) text += text ? `.${segment}` : segment
    else text += `[${JSON.stringify(segment)}]`
  }
  return text
}

/** An issue as the CLI prints it: `resources/todos.yaml:12:5  fields.title.max  must be ≥ min (hint)`. */
export function formatIssue(issue: ResourceIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`
  return `${where}  ${issue.path || '(file)'}  ${issue.message} (${issue.hint})`
}

/** Issues in reading order: by file, then line, then column. */
export function sortIssues(issues: readonly ResourceIssue[]): ResourceIssue[] {
  return [...issues].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
}
