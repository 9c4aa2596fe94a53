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
      ...options.overrides,
      server: {
        port: 0,
        host: '127.0.0.1',
        keepAliveTimeoutMs: 1000,
        ...section(options.overrides, 'server'),
      },
      metrics: { defaultMetrics: false, ...section(options.overrides, 'metrics') },
    },
  })
  return { app, logs, root }
}

const section = (overrides: Record<string, unknown> | undefined, name: string) =>
  (overrides?.[name] ?? {}) as Record<string, unknown>
