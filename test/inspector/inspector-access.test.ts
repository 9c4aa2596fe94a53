import type { ConfigError } from 'keel/config'
import { isKeelError } from 'keel/errors'
import type { InspectorDescription } from 'keel/inspector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureApp, inspectorPath, json, liveClient, problemOf } from './support/fixture-app.ts'

const viewerToken = 'viewer-token-0123456789abcdef'
const operatorToken = 'operator-token-0123456789abcdef'
const prodYaml = [
  'inspector:',
  '  enabled: true',
  '  tokens:',
  '    viewer:',
  '      - ${VIEWER_TOKEN}',
  '    operator:',
  '      - ${OPERATOR_TOKEN}',
].join('\n')

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
/** What creating the fixture app throws; fails the test when it does not throw. */
const creationError = (options: Parameters<typeof fixtureApp>[0]) => {
  try {
    fixtureApp(options)
  } catch (error) {
    return error as ConfigError
  }
  throw new Error('createApp did not refuse')
}
const post = (headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
})

describe('inspector access in the prod profile', () => {
  const { app } = fixtureApp({
    profile: 'prod',
    yaml: prodYaml,
    env: { VIEWER_TOKEN: viewerToken, OPERATOR_TOKEN: operatorToken },
  })
  let url: string
  const api = (path: string, init?: RequestInit) => fetch(`${url}${inspectorPath}${path}`, init)

  beforeAll(async () => {
    url = (await app.start()).url
  })
  afterAll(async () => {
    await app.stop()
  })

  it('describes itself as needing a token, for keel check, without showing the tokens', () => {
    const module = app.describe().modules.find((m) => m.name === 'inspector')!
    expect(module.inspector).toEqual({
      enabled: true,
      path: '/_keel/inspector',
      port: null,
      tokenRequired: true,
      tokensConfigured: { viewer: 1, operator: 1 },
      capture: false,
    } satisfies InspectorDescription)
    expect(JSON.stringify(app.describe())).not.toContain(viewerToken)
  })

  it('refuses a request without a token: 401 problem+json with a Bearer challenge', async () => {
    const res = await api('/traces')
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="keel-inspector"')
    expect(await problemOf(res, 401)).toMatchObject({ code: 'KEEL_UNAUTHORIZED', status: 401 })
  })

  it('refuses a wrong token, a token of another scheme and an empty bearer with 401', async () => {
    for (const authorization of [`Bearer ${viewerToken}x`, `Basic ${viewerToken}`, 'Bearer ', viewerToken]) {
      expect((await problemOf(await api('/routes', { headers: { authorization } }), 401)).code).toBe(
        'KEEL_UNAUTHORIZED',
      )
    }
  })

  it('lets a viewer read, and says which role it has', async () => {
    expect((await api('/traces', { headers: bearer(viewerToken) })).status).toBe(200)
    const index = await json<{ role: string; tokenRequired: boolean }>(
      await api('', { headers: bearer(viewerToken) }),
    )
    expect(index).toMatchObject({ role: 'viewer', tokenRequired: true })
  })

  it('refuses a viewer an operator action with 403, and lets an operator do it', async () => {
    const relay = JSON.stringify({ routeId: '0123456789ab' })
    const asViewer = await api('/relay', { ...post(bearer(viewerToken)), body: relay })
    expect(await problemOf(asViewer, 403)).toMatchObject({ code: 'KEEL_FORBIDDEN', requiredRole: 'operator' })
    const retry = await api(
      `/dead-letters/job/q:${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/retry`,
      post(bearer(viewerToken)),
    )
    expect((await problemOf(retry, 403)).code).toBe('KEEL_FORBIDDEN')
    // The operator gets through the guard: the route then answers for itself (no such route id).
    const asOperator = await api('/relay', { ...post(bearer(operatorToken)), body: relay })
    expect((await problemOf(asOperator, 404)).code).toBe('KEEL_NOT_FOUND')
    expect((await api('', { headers: bearer(operatorToken) })).status).toBe(200)
  })

  it('guards the live feed the same way: refused without a token, open with the bearer subprotocol', async () => {
    const wsUrl = `${url.replace('http', 'ws')}${inspectorPath}/live`
    const refused = liveClient(wsUrl, ['keel-inspector.v1'])
    await expect(refused.opened).rejects.toThrow('upgrade refused: 401')
    const wrong = liveClient(wsUrl, ['keel-inspector.v1', 'bearer.nope'])
    await expect(wrong.opened).rejects.toThrow('upgrade refused: 401')
    // The token first would be echoed back as the chosen protocol: refused before that can happen.
    const tokenFirst = liveClient(wsUrl, [`bearer.${viewerToken}`, 'keel-inspector.v1'])
    await expect(tokenFirst.opened).rejects.toThrow('upgrade refused: 400')
    const client = liveClient(wsUrl, ['keel-inspector.v1', `bearer.${viewerToken}`])
    await client.opened
    try {
      expect(client.ws.protocol).toBe('keel-inspector.v1')
      expect(await client.next((m) => m.type === 'hello')).toMatchObject({ role: 'viewer' })
    } finally {
      client.ws.close()
    }
  })
})

describe('inspector defaults per profile', () => {
  it('fails createApp in prod when enabled without any token, naming inspector.tokens', () => {
    const error = creationError({ profile: 'prod', yaml: 'inspector:\n  enabled: true\n' })
    expect(isKeelError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'KEEL_CONFIG_INVALID' })
    expect((error as Error).message).toContain('inspector.tokens')
    expect((error as Error).message).toContain('keel.yaml')
  })

  it('fails createApp in prod on requireToken false, even with tokens, naming the key and its line', () => {
    const error = creationError({
      profile: 'prod',
      yaml: `${prodYaml}\n  requireToken: false\n`,
      env: { VIEWER_TOKEN: viewerToken, OPERATOR_TOKEN: operatorToken },
    })
    expect(isKeelError(error)).toBe(true)
    expect(error.code).toBe('KEEL_CONFIG_INVALID')
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'inspector.requireToken',
        source: expect.objectContaining({ kind: 'file', line: 8 }),
      }),
    ])
    expect(error.message).toContain(
      'keel.yaml:8 inspector.requireToken: the inspector is enabled in profile "prod"',
    )
    expect(error.message).toContain('only the dev and test profiles allow')
    expect(error.message).toContain('set inspector.enabled: false')
  })

  it('refuses requireToken false in any profile but dev and test, wherever it is set', () => {
    const error = creationError({
      profile: 'staging',
      yaml: 'inspector:\n  enabled: true\n',
      env: { KEEL_INSPECTOR__REQUIRE_TOKEN: 'false' },
    })
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'inspector.requireToken',
        source: { kind: 'env', name: 'KEEL_INSPECTOR__REQUIRE_TOKEN' },
      }),
    ])
    expect(error.message).toContain('profile "staging"')
  })

  it('lets a prod inspector with requireToken true and tokens start, and still asks for the token', async () => {
    const { app } = fixtureApp({
      profile: 'prod',
      yaml: `${prodYaml}\n  requireToken: true\n`,
      env: { VIEWER_TOKEN: viewerToken, OPERATOR_TOKEN: operatorToken },
      // prod waits for the load balancer before it closes; nothing routes here.
      overrides: { shutdown: { drainDelayMs: 0 } },
    })
    const { url } = await app.start()
    try {
      expect((await problemOf(await fetch(`${url}${inspectorPath}/traces`), 401)).code).toBe(
        'KEEL_UNAUTHORIZED',
      )
      expect((await fetch(`${url}${inspectorPath}/traces`, { headers: bearer(viewerToken) })).status).toBe(
        200,
      )
    } finally {
      await app.stop()
    }
  })

  it('allows requireToken false in dev: a request without a token acts as operator', async () => {
    const { app } = fixtureApp({ profile: 'dev', yaml: 'inspector:\n  requireToken: false\n' })
    const { url } = await app.start()
    try {
      const index = await json<{ role: string; tokenRequired: boolean }>(
        await fetch(`${url}${inspectorPath}`),
      )
      expect(index).toMatchObject({ role: 'operator', tokenRequired: false })
      // An operator action gets through the guard: the route then answers for itself (no such route id).
      const relay = await fetch(`${url}${inspectorPath}/relay`, {
        ...post(),
        body: JSON.stringify({ routeId: '0123456789ab' }),
      })
      expect((await problemOf(relay, 404)).code).toBe('KEEL_NOT_FOUND')
    } finally {
      await app.stop()
    }
  })

  it('treats an empty token (an unset ${VAR:} default) as no token at all', () => {
    expect(() =>
      fixtureApp({
        profile: 'prod',
        yaml: 'inspector:\n  enabled: true\n  tokens:\n    operator:\n      - ${T:}\n',
      }),
    ).toThrow(/inspector\.tokens/)
  })

  it('is off in prod unless enabled: no routes, no spans, described as disabled', () => {
    const { app } = fixtureApp({ profile: 'prod' })
    expect(app.describe().routes.some((r) => r.path.startsWith('/_keel/inspector'))).toBe(false)
    const module = app.describe().modules.find((m) => m.name === 'inspector')!
    expect(module.inspector).toMatchObject({ enabled: false, tokenRequired: true })
  })

  it('needs no token in dev, and still checks one that is presented', async () => {
    const { app } = fixtureApp({ yaml: 'inspector:\n  tokens:\n    viewer: [dev-viewer-token]\n' })
    const { url } = await app.start()
    try {
      expect((await fetch(`${url}${inspectorPath}/traces`)).status).toBe(200)
      const asViewer = await fetch(`${url}${inspectorPath}/relay`, {
        ...post(bearer('dev-viewer-token')),
        body: JSON.stringify({ routeId: '0123456789ab' }),
      })
      expect((await problemOf(asViewer, 403)).code).toBe('KEEL_FORBIDDEN')
      const wrong = await fetch(`${url}${inspectorPath}/traces`, { headers: bearer('guess') })
      expect((await problemOf(wrong, 401)).code).toBe('KEEL_UNAUTHORIZED')
      const module = app.describe().modules.find((m) => m.name === 'inspector')!
      expect(module.inspector).toMatchObject({ enabled: true, tokenRequired: false })
    } finally {
      await app.stop()
    }
  })
})
