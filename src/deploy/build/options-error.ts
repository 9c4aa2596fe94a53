import { KeelError } from '../../errors/index.ts'

/**
 * A bad `keel build` option (a `--copy` path that does not exist): `KEEL_CLI_USAGE`, so the CLI
 * exits 2. Built here rather than imported from the CLI, which sits above the deploy layer.
 */
export const optionError = (message: string) => new KeelError('KEEL_CLI_USAGE', message)
