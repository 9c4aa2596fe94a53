import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type App, type CreateAppOptions, createApp } from 'keel/app'
import { LogCapture } from './log-capture.ts'

/**
 * An app in an empty service root (so no stray keel.yaml or env leaks in), listening on port 0
 * of 127.0.0.1, logging into a {@link LogCapture}. `yaml` becomes the root's keel.yaml.
 */
export function testApp(options: CreateAppOptions & { yaml?: string } = {}): {
  app: App
  logs: LogCapture
  root: string
} {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'keel-test-'))
  if (options.yaml !== undefined) writeFileSync(join(root, 'keel.yaml'), options.yaml)
  const logs = new LogCapture()
  const app = createApp({
    env: {},
    ...options,
    root,
    logStream: logs,
    // A short keep-alive lets fetch() drop idle sockets quickly, so stop() need not wait for them.
    overrides: {
      server: { port: 0, host: '127.0.0.1', keepAliveTimeoutMs: 1000 },
      metrics: { defaultMetrics: false },
      ...options.overrides,
    },
  })
  return { app, logs, root }
}
