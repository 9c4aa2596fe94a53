import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { KeelError } from '../errors/index.ts'

const writeErrors: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  // mkdir of a parent that exists as a file.
  EEXIST: 'a parent of it is not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
}

/**
 * Writes a command's document to `path`, creating its directory; returns the absolute path.
 * Fails with `KEEL_CLI_OUTPUT` naming the flag and the file: `--out a/b.json: cannot write the
 * document: permission denied`.
 */
export async function writeOutput(flag: string, path: string, text: string): Promise<string> {
  const file = resolve(path)
  try {
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, text)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    const reason = writeErrors[code] ?? `${code || (error as Error).message}`
    throw new KeelError('KEEL_CLI_OUTPUT', `${flag} ${path}: cannot write the document: ${reason}`, {
      cause: error,
    })
  }
  return file
}
