import { describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'

describe('keel gen', () => {
  it('prints its help with every target', async () => {
    const { code, out } = await runKeel(['gen', '--help'])
    expect(code).toBe(0)
    for (const target of ['docker', 'k8s', 'compose', 'observability', 'all']) expect(out).toContain(target)
  })

  it('needs a known target and says which ones exist', async () => {
    const none = await runKeel(['gen'])
    expect(none.code).toBe(2)
    expect(none.err).toContain('keel gen needs a target: docker, k8s, compose, observability or all')
    const unknown = await runKeel(['gen', 'helm', '--entry', 'examples/todo/app.ts'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('unknown target "helm"')
  })

  it('refuses empty flag values and unknown flags, naming them', async () => {
    const empty = await runKeel(['gen', 'docker', '--out', ''])
    expect(empty.code).toBe(2)
    expect(empty.err).toContain('--out needs a value')
    const unknown = await runKeel(['gen', 'docker', '--outdir', 'x'])
    expect(unknown.code).toBe(2)
    // Without Node's advice on positionals, which gen takes.
    expect(unknown.err).toBe("keel: unknown flag '--outdir'\n")
  })

  it('names an entry that does not exist', async () => {
    const { code, err } = await runKeel(['gen', 'docker', '--entry', 'no/such/app.ts'])
    expect(code).toBe(1)
    expect(err).toContain('--entry no/such/app.ts: file not found')
  })
})
