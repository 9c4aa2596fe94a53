import { KeelError } from '../errors/index.ts'

/** A bad command line: exits 2 and names the flag or argument. */
export const usageError = (message: string) => new KeelError('KEEL_CLI_USAGE', message)
