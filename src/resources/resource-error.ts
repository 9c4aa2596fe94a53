import { KeelError } from '../errors/index.ts'
import { formatIssue, type ResourceIssue } from './resource-issue.ts'

/**
 * Raised when resource files are invalid (`KEEL_RESOURCE_INVALID`); lists every issue found in
 * every file, not only the first, each with its file, line, column, key path and hint.
 *
 * @example
 * ```ts
 * try {
 *   await loadResources('resources')
 * } catch (error) {
 *   if (isResourceError(error)) for (const issue of error.issues) console.error(formatIssue(issue))
 * }
 * ```
 */
export class ResourceError extends KeelError {
  /** Brand checked by {@link isResourceError}; survives two copies of the package. */
  readonly isResourceError = true
  readonly issues: readonly ResourceIssue[]

  constructor(issues: readonly ResourceIssue[]) {
    const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`
    super(
      'KEEL_RESOURCE_INVALID',
      `resources: ${count}\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`,
    )
    this.name = 'ResourceError'
    this.issues = issues
  }
}

/** True for a {@link ResourceError}, including one thrown by another copy of Keel. */
export function isResourceError(error: unknown): error is ResourceError {
  return typeof error === 'object' && error !== null && (error as ResourceError).isResourceError === true
}
