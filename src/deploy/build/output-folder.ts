import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'
import { KeelError } from '../../errors/index.ts'

const reasons: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a parent of it is not a directory',
  EEXIST: 'a parent of it is not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
}

/** A failure to write under `--out`, naming the flag, the folder and the reason. */
export function outputError(out: string, error: unknown): KeelError {
  const code = (error as NodeJS.ErrnoException).code ?? ''
  const reason = reasons[code] ?? (code || (error as Error).message)
  return new KeelError('KEEL_CLI_OUTPUT', `--out ${out}: cannot write the build: ${reason}`, { cause: error })
}

/**
 * Makes `folder` (`--out out`) an empty folder for a new build. A build replaces the previous one whole (a
 * migration deleted from the sources must not linger in dist/), so the folder is emptied, but
 * only when it is empty or holds a previous build (`server.mjs`), and never when it contains the
 * sources (`--out .`).
 */
export async function prepareOutputFolder(
  out: string,
  folder: string,
  protectedPaths: readonly string[],
): Promise<void> {
  for (const path of protectedPaths) {
    if (isInsideOrEqual(path, folder))
      throw new KeelError(
        'KEEL_CLI_OUTPUT',
        `--out ${out}: contains ${path}, which the build reads; choose a folder of its own such as dist`,
      )
  }
  const info = await stat(folder).catch(() => undefined)
  if (info && !info.isDirectory())
    throw new KeelError('KEEL_CLI_OUTPUT', `--out ${out}: exists and is not a folder`)
  if (info) {
    const entries = await readdir(folder).catch((error: unknown) => {
      throw outputError(out, error)
    })
    if (entries.length > 0 && !entries.includes('server.mjs'))
      throw new KeelError(
        'KEEL_CLI_OUTPUT',
        `--out ${out}: is not empty and holds no previous build (no server.mjs); empty it or choose another folder`,
      )
    try {
      for (const entry of entries) await rm(join(folder, entry), { recursive: true, force: true })
    } catch (error) {
      throw outputError(out, error)
    }
  }
  try {
    await mkdir(folder, { recursive: true })
    // Fails early on a folder that exists but cannot be written, before esbuild runs.
    const probe = join(folder, '.keel-build-probe')
    await writeFile(probe, '')
    await rm(probe)
  } catch (error) {
    throw outputError(out, error)
  }
}

/** Whether `path` is `folder` or lies inside it. */
function isInsideOrEqual(path: string, folder: string): boolean {
  const rest = relative(folder, path)
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest))
}
