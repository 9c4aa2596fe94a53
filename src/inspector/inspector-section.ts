import { Type } from '@sinclair/typebox'
import { defineConfigSection, Secret } from '../config/index.ts'

const tokenList = (role: string) =>
  Type.Array(Secret({ description: `a bearer token with the ${role} role` }), {
    default: [],
    description: `bearer tokens of the ${role} role; several allow rotation; empty strings are ignored`,
  })

/**
 * The `inspector` config section. Tokens are lists per role, so `${VAR}` references interpolate
 * (keel.yaml interpolates strings and lists of strings, not objects inside lists) and
 * `KEEL_INSPECTOR__TOKENS__OPERATOR=a,b` sets them from the environment.
 *
 * @example
 * ```yaml
 * inspector:
 *   enabled: true
 *   tokens:
 *     operator:
 *       - ${INSPECTOR_OPERATOR_TOKEN}
 *     viewer:
 *       - ${INSPECTOR_VIEWER_TOKEN:}
 * ```
 */
export const inspectorSection = defineConfigSection('inspector', {
  enabled: Type.Optional(
    Type.Boolean({
      description: 'serve the inspector; unset: on in the dev and test profiles, off elsewhere',
    }),
  ),
  path: Type.String({
    pattern: '^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$',
    default: '/_keel/inspector',
    description: 'path prefix of the inspector API (`<path>/v1/...`)',
  }),
  port: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], {
    default: null,
    description:
      'serve the inspector (API, live feed and UI) on this port of its own instead of the app port; null: on the app port under `path`',
  }),
  requireToken: Type.Optional(
    Type.Boolean({
      description:
        'every inspector request needs a bearer token; unset: yes outside the dev and test profiles. false is allowed only in dev and test: elsewhere createApp() refuses it',
    }),
  ),
  tokens: Type.Object(
    {
      viewer: tokenList('viewer (read only)'),
      operator: tokenList('operator (read, retry, discard, relay)'),
    },
    { additionalProperties: false, default: {} },
  ),
  store: Type.Object(
    {
      maxSpans: Type.Integer({
        minimum: 10,
        maximum: 1_000_000,
        default: 20_000,
        description: 'spans kept in all; past it the oldest whole traces are evicted',
      }),
      maxBytes: Type.Integer({
        minimum: 64 * 1024,
        default: 32 * 1024 * 1024,
        description: 'estimated bytes kept (spans and captured payloads); past it the oldest whole traces go',
      }),
      maxTracesPerSecond: Type.Integer({
        minimum: 0,
        default: 100,
        description:
          'traces kept per second at most (failed ones always kept); 0: every trace. Windows count every request either way',
      }),
      maxSpansPerTrace: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 1000,
        description:
          'spans kept of one trace; later ones are counted as dropped (a runaway loop stays bounded)',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
  windows: Type.Object(
    {
      bucketMs: Type.Integer({
        minimum: 100,
        maximum: 60_000,
        default: 1000,
        description: 'width of one window bucket',
      }),
      buckets: Type.Integer({
        minimum: 2,
        maximum: 3600,
        default: 60,
        description: 'buckets in a sliding window (60 x 1 s: the last minute)',
      }),
      maxSeries: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 2000,
        description: 'routes and steps tracked at most; later ones are counted under "(other)"',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
  stallThresholdMs: Type.Integer({
    minimum: 1,
    default: 5000,
    description: 'a request or flow step running longer than this is listed under /v1/stalls',
  }),
  capture: Type.Object(
    {
      enabled: Type.Boolean({
        default: false,
        description: 'keep request and response bodies of recent traces (always redacted)',
      }),
      maxBytes: Type.Integer({
        minimum: 64,
        maximum: 1024 * 1024,
        default: 8192,
        description: 'largest captured body; a larger one is cut and marked truncated',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
  live: Type.Object(
    {
      maxBufferBytes: Type.Integer({
        minimum: 1024,
        default: 1024 * 1024,
        description: 'bytes queued for one slow live client before messages to it are dropped (and counted)',
      }),
      metricsIntervalMs: Type.Integer({
        minimum: 100,
        default: 1000,
        description: 'how often live clients get the window update',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
})
