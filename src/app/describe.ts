import type { TObject } from '@sinclair/typebox'

/**
 * What an app says about itself without listening: the CLI and the deploy generators build
 * OpenAPI, manifests, dashboards and alerts from this, so they never drift from the code.
 */
export interface AppDescription {
  service: { name: string; version: string }
  profile: string
  ports: Array<{ name: 'http' | 'metrics'; port: number }>
  probes: { live: string; ready: string; health: string; startup: string }
  metrics: { enabled: boolean; path: string; port: number }
  routes: Array<{ method: string; path: string; internal: boolean; meta?: Record<string, unknown> }>
  healthChecks: Array<{ name: string; critical: boolean }>
  modules: Array<{ name: string; dependsOn: readonly string[]; [fact: string]: unknown }>
  /** Backing services the app needs: from modules and from configured URLs. */
  services: string[]
  shutdown: { drainDelayMs: number; deadlineMs: number }
  /** JSON Schema of the whole configuration. */
  configSchema: TObject
}
