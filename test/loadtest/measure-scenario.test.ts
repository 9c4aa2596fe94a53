import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { measureScenario, type ScenarioProgress, scenariosFrom } from 'keel/loadtest'
import { afterEach, describe, expect, it } from 'vitest'

// A bare node:http server stands in for the target, so the test sees exactly what autocannon sent.

interface Seen {
  method: string
  url: string
  contentType: string | undefined
  body: string
}

let server: Server | undefined
afterEach(async () => {
  const closing = server
  server = undefined
  closing?.closeAllConnections()
  await new Promise((resolve) => closing?.close(resolve) ?? resolve(undefined))
})

async function serve(
  handle: (request: IncomingMessage, body: string, respond: (status: number) => void) => void,
) {
  const seen: Seen[] = []
  server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk
    })
    request.on('end', () => {
      seen.push({
        method: request.method!,
        url: request.url!,
        contentType: request.headers['content-type'],
        body,
      })
      handle(request, body, (status) =>
        response.writeHead(status, { 'content-type': 'text/plain' }).end('ok'),
      )
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { seen, target: new URL(`http://127.0.0.1:${port}/base`) }
}

describe('measureScenario', () => {
  it('mixes requests by weight with a seeded choice, sending JSON bodies with their content type', async () => {
    const { seen, target } = await serve((_request, _body, respond) => respond(200))
    const [scenario] = scenariosFrom({
      mix: {
        connections: 2,
        amount: 400,
        requests: {
          read: { path: '/items?limit=5', weight: 3 },
          write: { method: 'POST', path: '/items', body: { title: 'load', tags: ['a'] }, weight: 1 },
        },
      },
    })
    const measurement = await measureScenario(scenario!, { target })
    expect(measurement.responses).toBe(400)
    expect(measurement.errors).toBe(0)
    expect(measurement.statusCodes).toEqual({ 200: 400 })
    expect(measurement.latency.count).toBe(400)
    const reads = seen.filter((s) => s.method === 'GET')
    const writes = seen.filter((s) => s.method === 'POST')
    expect(reads.length + writes.length).toBe(seen.length)
    // Paths go under the target's own path.
    expect(new Set(reads.map((s) => s.url))).toEqual(new Set(['/base/items?limit=5']))
    expect(new Set(writes.map((s) => s.url))).toEqual(new Set(['/base/items']))
    for (const write of writes) {
      expect(write.contentType).toBe('application/json')
      expect(JSON.parse(write.body)).toEqual({ title: 'load', tags: ['a'] })
    }
    for (const read of reads) expect(read.body).toBe('')
    // 3:1 by weight: 300 expected reads of 400; a seeded stream of 400 picks lands near it.
    expect(reads.length).toBeGreaterThan(260)
    expect(reads.length).toBeLessThan(340)
  })

  it('counts timeouts as transport errors by kind, and reports progress every second', async () => {
    // The server reads requests and never answers.
    const { target } = await serve(() => {})
    const [scenario] = scenariosFrom({
      silent: { connections: 2, durationSeconds: 1.5, timeoutSeconds: 1, requests: { home: { path: '/' } } },
    })
    const progress: ScenarioProgress[] = []
    const measurement = await measureScenario(scenario!, { target, onProgress: (p) => progress.push(p) })
    expect(measurement.responses).toBe(0)
    expect(measurement.errors).toBeGreaterThan(0)
    expect(measurement.timeouts).toBe(measurement.errors)
    expect(measurement.errorKinds).toEqual({ timeout: measurement.errors })
    expect(measurement.seconds.reduce((sum, s) => sum + s.errors, 0)).toBe(measurement.errors)
    expect(progress.length).toBeGreaterThan(0)
    expect(progress[0]).toMatchObject({ scenario: 'silent', phase: 'run', totalSeconds: 1.5, responses: 0 })
  })

  it('counts the statuses it gets, whatever they are', async () => {
    let n = 0
    const { target } = await serve((_request, _body, respond) => respond(n++ % 2 === 0 ? 201 : 503))
    const [scenario] = scenariosFrom({
      half: { connections: 1, amount: 50, requests: { home: { path: '/' } } },
    })
    const measurement = await measureScenario(scenario!, { target })
    expect(measurement.statusCodes).toEqual({ 201: 25, 503: 25 })
  })

  it('warms up unmeasured first, then measures under the rate cap', async () => {
    const { seen, target } = await serve((_request, _body, respond) => respond(200))
    const [scenario] = scenariosFrom({
      capped: {
        connections: 2,
        rate: 10,
        warmupSeconds: 1,
        durationSeconds: 1.5,
        requests: { home: { path: '/' } },
      },
    })
    const phases = new Set<string>()
    const measurement = await measureScenario(scenario!, { target, onProgress: (p) => phases.add(p.phase) })
    expect([...phases]).toEqual(['warmup', 'run'])
    // 10 requests/s: at most 10 in each one-second window the run lasted (two, unless the
    // machine was so busy that the run overran its 1.5 s).
    expect(measurement.responses).toBeGreaterThan(0)
    expect(measurement.responses).toBeLessThanOrEqual(10 * Math.ceil(measurement.elapsedMs / 1000))
    // The warm-up's requests reached the server but are not in the measurement.
    expect(seen.length).toBeGreaterThan(measurement.responses)
  })
})
