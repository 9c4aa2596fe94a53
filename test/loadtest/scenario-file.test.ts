import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from 'keel/config'
import { readScenarioFile, scenariosFrom } from 'keel/loadtest'
import { describe, expect, it } from 'vitest'

const fileWith = (yaml: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'keel-scenarios-')), 'scenarios.yaml')
  writeFileSync(file, yaml)
  return file
}

/** The problems a file has, as the CLI prints them (without the directory). */
function problems(yaml: string): string[] {
  const file = fileWith(yaml)
  try {
    readScenarioFile(file)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).message
      .split('\n')
      .slice(1)
      .map((line) => line.replace(`  - ${file}`, 'FILE'))
  }
  throw new Error('the file was accepted')
}

describe('readScenarioFile', () => {
  it('reads scenarios and scenariosFrom applies every default', () => {
    const file = fileWith(
      'scenarios:\n  browse:\n    requests:\n      home: { path: /, headers: { x-test: "1" } }\n      post: { method: PUT, path: /a, body: "raw", weight: 0.5 }\n',
    )
    const [scenario] = scenariosFrom(readScenarioFile(file).scenarios)
    expect(scenario).toEqual({
      name: 'browse',
      description: undefined,
      requests: [
        { name: 'home', method: 'GET', path: '/', headers: { 'x-test': '1' }, body: undefined, weight: 1 },
        { name: 'post', method: 'PUT', path: '/a', headers: {}, body: 'raw', weight: 0.5 },
      ],
      connections: 10,
      rate: undefined,
      durationSeconds: 10,
      amount: undefined,
      warmupSeconds: 0,
      timeoutSeconds: 10,
      seed: 1,
      criteria: {
        maxErrorRate: undefined,
        maxP50Ms: undefined,
        maxP95Ms: undefined,
        maxP99Ms: undefined,
        minRps: undefined,
        statuses: ['2xx', '3xx'],
      },
    })
  })

  it('applies --duration and --connections over every scenario; a duration replaces an amount', () => {
    const file = fileWith(
      'scenarios:\n  a:\n    amount: 100\n    connections: 5\n    requests: { home: { path: / } }\n',
    )
    const [scenario] = scenariosFrom(readScenarioFile(file).scenarios, { durationSeconds: 2, connections: 3 })
    expect(scenario).toMatchObject({ durationSeconds: 2, amount: undefined, connections: 3 })
    const [untouched] = scenariosFrom(readScenarioFile(file).scenarios)
    expect(untouched).toMatchObject({ durationSeconds: undefined, amount: 100, connections: 5 })
  })

  it('resolves ${VAR} references from the environment', () => {
    const file = fileWith(
      'scenarios:\n  a:\n    requests:\n      home: { path: /, headers: { authorization: "Bearer ${TOKEN}" } }\n',
    )
    const [scenario] = scenariosFrom(readScenarioFile(file, { TOKEN: 'abc' }).scenarios)
    expect(scenario!.requests[0]!.headers).toEqual({ authorization: 'Bearer abc' })
  })

  it('names file, line and key of an unknown scenario key, with the key it resembles', () => {
    expect(
      problems(
        'scenarios:\n  a:\n    requests:\n      home: { path: / }\n    criteria:\n      maxP59Ms: 100\n',
      ),
    ).toEqual(['FILE:6 scenarios.a.criteria.maxP59Ms: unknown key; did you mean "maxP50Ms"?'])
    expect(
      problems('scenarios:\n  a:\n    requests:\n      home:\n        path: /\n        wieght: 2\n'),
    ).toEqual(['FILE:6 scenarios.a.requests.home.wieght: unknown key; did you mean "weight"?'])
    expect(problems('scenario:\n  a: {}\n')).toEqual([
      'FILE:1 scenario: unknown key; did you mean "scenarios"?',
    ])
  })

  it('rejects a weight of 0 or less', () => {
    expect(problems('scenarios:\n  a:\n    requests:\n      home: { path: /, weight: 0 }\n')).toEqual([
      'FILE:4 scenarios.a.requests.home.weight: expected number > 0, got 0',
    ])
    expect(problems('scenarios:\n  a:\n    requests:\n      home: { path: /, weight: -2 }\n')).toEqual([
      'FILE:4 scenarios.a.requests.home.weight: expected number > 0, got -2',
    ])
  })

  it('rejects a scenario without requests, and a request without a path', () => {
    expect(problems('scenarios:\n  a:\n    connections: 2\n')).toEqual([
      'FILE:3 scenarios.a: requests is required: at least one request with a path, e.g. { home: { path: / } }',
    ])
    expect(problems('scenarios:\n  a:\n    requests: {}\n')).toEqual([
      'FILE:3 scenarios.a.requests: needs at least one request with a path, e.g. { home: { path: / } }',
    ])
    expect(problems('scenarios:\n  a:\n    requests:\n      home: { method: POST }\n')).toEqual([
      'FILE:4 scenarios.a.requests.home: path is required, e.g. /health',
    ])
  })

  it('rejects wrong types, bad statuses, both amount and duration, and a GET with a body', () => {
    expect(
      problems(
        'scenarios:\n  a:\n    connections: many\n    requests:\n      home: { path: no-slash, method: HEAD }\n    criteria:\n      statuses: [2xx, 600]\n',
      ),
    ).toEqual([
      'FILE:5 scenarios.a.requests.home.method: expected one of "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", got "HEAD"',
      'FILE:5 scenarios.a.requests.home.path: expected a string matching ^/, got "no-slash"',
      'FILE:3 scenarios.a.connections: expected integer 1-10000, got "many"',
      'FILE:7 scenarios.a.criteria.statuses.1: expected a string matching ^([1-5]xx|[1-5][0-9][0-9])$, got 600',
    ])
    expect(
      problems(
        'scenarios:\n  a:\n    amount: 5\n    durationSeconds: 2\n    requests:\n      home: { path: /, body: { a: 1 } }\n',
      ),
    ).toEqual([
      'FILE:6 scenarios.a.requests.home.body: a GET request has no body',
      'FILE:3 scenarios.a.amount: set either amount or durationSeconds, not both',
      'FILE:3 scenarios.a.amount: must be at least connections (10), got 5',
    ])
  })

  it('reports a missing file and malformed YAML with the file name', () => {
    expect(() => readScenarioFile('no/such/scenarios.yaml')).toThrow('no/such/scenarios.yaml: file not found')
    expect(problems('scenarios:\n  a: [\n')[0]).toMatch(/^FILE:\d+: invalid YAML/)
  })
})
