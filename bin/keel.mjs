#!/usr/bin/env node
// The `keel` command. A published package runs dist/; a development checkout has no dist/, so
// it runs src/ through tsx with the `source` export condition (so apps importing `keel` resolve
// to the same sources the CLI runs).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dist = new URL('../dist/cli/main.js', import.meta.url)
if (existsSync(dist)) {
  const { main } = await import(dist.href)
  process.exitCode = await main(process.argv.slice(2))
} else {
  const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
  // Resolved from this file, so the command works from any directory.
  const tsx = import.meta.resolve('tsx')
  const args = ['--conditions=source', '--import', tsx, source, ...process.argv.slice(2)]
  const child = spawnSync(process.execPath, args, { stdio: 'inherit' })
  process.exitCode = child.status ?? 1
}
