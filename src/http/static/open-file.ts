import type { Stats } from 'node:fs'
import { type FileHandle, open, realpath } from 'node:fs/promises'
import { isInside } from './file-path.ts'

/** An open regular file or a directory, after its real path was checked against the root. */
export type OpenedPath =
  | { kind: 'file'; handle: FileHandle; stats: Stats; path: string }
  | { kind: 'directory'; path: string }

/**
 * Opens `path` if its real path (symlinks resolved) stays under `realRoot`. Symlinks are
 * followed only while they point inside the root: a link to `/etc` is as missing as a file that
 * does not exist. Anything that is not a regular file or a directory (sockets, devices, FIFOs)
 * is missing too. The handle is opened before its size and time are read, so the bytes sent
 * match the headers even if the file is replaced meanwhile.
 */
export async function openInside(realRoot: string, path: string): Promise<OpenedPath | undefined> {
  let real: string
  try {
    real = await realpath(path)
  } catch {
    return undefined
  }
  if (!isInside(realRoot, real)) return undefined
  let handle: FileHandle
  try {
    handle = await open(real, 'r')
  } catch {
    return undefined
  }
  try {
    const stats = await handle.stat()
    if (stats.isFile()) return { kind: 'file', handle, stats, path: real }
    await handle.close()
    return stats.isDirectory() ? { kind: 'directory', path: real } : undefined
  } catch {
    await handle.close().catch(() => {})
    return undefined
  }
}
