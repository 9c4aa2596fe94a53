import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.ts'
import { type ServiceProcess, stackFrames, startService } from '../support/service-process.ts'

// A service is a real process here (`node --conditions=source --import tsx main.ts`), run in a
// temporary directory whose resources/ is broken: the way an operator meets a bad deploy.

const entry = join(import.meta.dirname, 'fixtures', 'resource-service', 'main.ts')

const services: ServiceProcess[] = []
const roots: string[] = []
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.kill()))
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

describe('a service with invalid resource files (child process)', { timeout: 90_000 }, () => {
  it('refuses to start, exits 1 and names the file and line of every issue, without a stack trace', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keel-resources-start-'))
    roots.push(root)
    mkdirSync(join(root, 'resources'))
    // Line 5: a tab where YAML needs spaces.
    writeFileSync(
      join(root, 'resources', 'tasks.yaml'),
      'resource: tasks\nversion: 1\nfields:\n  id: { type: uuid, primary: true, generated: true }\n\ttitle: { type: string }\n',
    )
    // Line 5: well-formed YAML, but a type the vocabulary does not have.
    writeFileSync(
      join(root, 'resources', 'users.yaml'),
      'resource: users\nversion: 1\nfields:\n  id:   { type: uuid, primary: true, generated: true }\n  name: { type: strin }\nendpoints:\n  get: { auth: [public] }\n',
    )
    const service = startService(entry, { cwd: root, env: { PORT: String(await freePort()) } })
    services.push(service)
    // node and tsx alone can take 15 s to start on a loaded machine.
    const exit = await service.waitForExit(60_000)
    expect(exit.code, service.output).toBe(1)
    const stderr = service.stderr
    expect(stderr, service.output).toMatch(/^keel: KEEL_RESOURCE_INVALID: resources: 2 problems\n/)
    expect(stderr).toContain('resources/tasks.yaml:5:1  (file)  invalid YAML: Tabs are not allowed')
    expect(stderr).toContain('resources/users.yaml:5:17  fields.name.type  unknown type "strin"')
    expect(stackFrames(stderr)).toEqual([])
    expect(service.records.some((record) => record.msg === 'app ready')).toBe(false)
  })
})
