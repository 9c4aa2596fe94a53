import { AuditTrail, auditMigrations, entryHash, genesisHash } from 'keel/audit'
import { type Db, migrate } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { afterEach, describe, expect, it } from 'vitest'

/** Opens a database of its own for one test; `writers` more connections to the same one if asked. */
export interface AuditDbs {
  open(): Promise<{ db: Db; writers(count: number): Promise<Db[]> }>
}

async function rejection(promise: Promise<unknown>): Promise<KeelError> {
  try {
    await promise
  } catch (error) {
    return error as KeelError
  }
  throw new Error('expected a rejection')
}

/** Disables the append-only trigger and runs `sql`, as someone with the table owner's rights could. */
async function tamper(db: Db, sql: string, params: unknown[] = []): Promise<void> {
  await db.execute('alter table keel_audit_entries disable trigger keel_audit_append_only')
  try {
    await db.query(sql, params)
  } finally {
    await db.execute('alter table keel_audit_entries enable trigger keel_audit_append_only')
  }
}

/** The audit trail's behaviour, run on PGlite (unit) and PostgreSQL (services). */
export function describeAuditContract(name: string, dbs: AuditDbs): void {
  const opened: Db[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()))
  })

  async function fresh(): Promise<{ db: Db; trail: AuditTrail; writers(count: number): Promise<Db[]> }> {
    const { db, writers } = await dbs.open()
    opened.push(db)
    await migrate(db, 'keel_audit', auditMigrations)
    return {
      db,
      trail: new AuditTrail(db),
      async writers(count) {
        const more = await writers(count)
        opened.push(...more)
        return more
      },
    }
  }

  describe(`audit trail on ${name}`, () => {
    it('chains each entry to the one before and reads back what it stored', async () => {
      const { trail } = await fresh()
      const first = await trail.append({
        action: 'todo.created',
        actor: 'user-1',
        subject: 'todos/1',
        data: { title: 'milk', tags: ['a', 'b'], due: new Date('2026-01-02T03:04:05.678Z') },
      })
      const second = await trail.append({ action: 'todo.deleted', actor: 'user-2', subject: 'todos/1' })

      expect(first).toMatchObject({ seq: 1, prevHash: genesisHash, action: 'todo.created', actor: 'user-1' })
      // Stored as jsonb returns it: a Date becomes its ISO string before hashing.
      expect(first.data).toEqual({ title: 'milk', tags: ['a', 'b'], due: '2026-01-02T03:04:05.678Z' })
      expect(first.hash).toBe(entryHash(first))
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/)
      expect(second).toMatchObject({
        seq: 2,
        prevHash: first.hash,
        subject: 'todos/1',
        actor: 'user-2',
        data: {},
      })

      expect(await trail.read()).toEqual([first, second])
      expect(await trail.head()).toEqual({ seq: 2, hash: second.hash })
      expect(await trail.verify()).toEqual({ ok: true, entries: 2, head: { seq: 2, hash: second.hash } })
    })

    it('hashes canonical JSON, so key order in data does not change the hash', async () => {
      const base = {
        seq: 1,
        at: new Date(0),
        actor: null,
        action: 'a',
        subject: null,
        prevHash: genesisHash,
      }
      expect(entryHash({ ...base, data: { b: 1, a: { y: [1, 2], x: 'é' } } })).toBe(
        entryHash({ ...base, data: { a: { x: 'é', y: [1, 2] }, b: 1 } }),
      )
      expect(entryHash({ ...base, data: { a: 1 } })).not.toBe(entryHash({ ...base, data: { a: 2 } }))
    })

    it('reads by subject, actor and action, pages by sequence number, and bounds the limit', async () => {
      const { trail } = await fresh()
      for (let i = 1; i <= 6; i++) {
        await trail.append({ action: i % 2 ? 'odd' : 'even', actor: `u${i % 3}`, subject: `s/${i % 2}` })
      }
      expect((await trail.read({ subject: 's/1' })).map((e) => e.seq)).toEqual([1, 3, 5])
      expect((await trail.read({ actor: 'u0', action: 'odd' })).map((e) => e.seq)).toEqual([3])
      expect((await trail.read({ afterSeq: 2, limit: 2 })).map((e) => e.seq)).toEqual([3, 4])
      const error = await rejection(trail.read({ limit: 0 }))
      expect(error.code).toBe('KEEL_AUDIT_INVALID_EVENT')
      expect(error.message).toContain('limit')
    })

    it('refuses an event it could not store exactly, naming the field, and appends nothing', async () => {
      const { trail } = await fresh()
      const cases: [unknown, string][] = [
        [{}, 'action is required'],
        [{ action: '' }, 'action must be a non-empty string'],
        [{ action: 'a', actor: 7 }, 'actor must be a non-empty string'],
        [{ action: 'a', data: { note: 'nul\u0000' } }, 'data.note contains a NUL character'],
        [{ action: 'a', data: { list: [1, Number.NaN] } }, 'data.list[1] is NaN'],
        [{ action: 'a', data: { big: 10n } }, 'data.big is a bigint'],
        [{ action: 'a', data: { when: new Map() } }, 'data.when is a Map'],
        [{ action: 'a', data: { s: '\uD800' } }, 'data.s contains a lone surrogate'],
        [{ action: 'a', data: { f: () => 1 } }, 'data.f is a function'],
      ]
      for (const [event, message] of cases) {
        const error = await rejection(trail.append(event as never))
        expect(isKeelError(error), message).toBe(true)
        expect(error.code).toBe('KEEL_AUDIT_INVALID_EVENT')
        expect(error.message).toContain(message)
      }
      expect(await trail.head()).toEqual({ seq: 0, hash: genesisHash })
    })

    it('refuses updates, deletes and truncation of entries in the database itself', async () => {
      const { db, trail } = await fresh()
      await trail.append({ action: 'kept' })
      await expect(db.query(`update keel_audit_entries set action = 'changed'`)).rejects.toThrow(
        /append-only/,
      )
      await expect(db.query('delete from keel_audit_entries')).rejects.toThrow(/append-only/)
      await expect(db.query('truncate keel_audit_entries')).rejects.toThrow(/append-only/)
      expect((await trail.read()).map((e) => e.action)).toEqual(['kept'])
    })

    it('writes an entry inside the caller’s transaction: rolled back with it, committed with it', async () => {
      const { db, trail } = await fresh()
      await db.execute('create table todos (id int primary key)')
      await expect(
        db.transaction(async (tx) => {
          await tx.query('insert into todos values (1)')
          await trail.append({ action: 'todo.created', subject: 'todos/1' }, { tx })
          throw new Error('the handler failed after writing')
        }),
      ).rejects.toThrow('the handler failed')
      expect(await trail.head()).toEqual({ seq: 0, hash: genesisHash })
      expect(await db.query('select id from todos')).toEqual([])

      await db.transaction(async (tx) => {
        await tx.query('insert into todos values (2)')
        await trail.append({ action: 'todo.created', subject: 'todos/2' }, { tx })
      })
      const after = await trail.append({ action: 'after' })
      expect((await trail.read()).map((e) => [e.seq, e.subject])).toEqual([
        [1, 'todos/2'],
        [2, null],
      ])
      expect(after.seq).toBe(2)
      expect(await trail.verify()).toMatchObject({ ok: true, entries: 2 })
    })

    it('10 writers × 500 concurrent appends form one chain that verifies, with every entry once', async () => {
      const { db, writers } = await fresh()
      const connections = await writers(10)
      const perWriter = 500
      await Promise.all(
        connections.map(async (connection, w) => {
          const trail = new AuditTrail(connection, { maxBatch: 32 })
          // Ten appends in flight per writer, so batches and lock waits interleave across writers.
          for (let start = 0; start < perWriter; start += 10) {
            await Promise.all(
              Array.from({ length: 10 }, (_, i) =>
                trail.append({ action: 'write', actor: `writer-${w}`, data: { n: start + i } }),
              ),
            )
          }
        }),
      )
      const trail = new AuditTrail(db)
      const check = await trail.verify()
      expect(check).toMatchObject({ ok: true, entries: 10 * perWriter })
      const perActor = await db.query<{ actor: string; entries: number; distinct_n: number }>(
        `select actor, count(*)::int as entries, count(distinct data->>'n')::int as distinct_n
         from keel_audit_entries group by actor order by actor`,
      )
      expect(perActor).toEqual(
        Array.from({ length: 10 }, (_, w) => ({
          actor: `writer-${w}`,
          entries: perWriter,
          distinct_n: perWriter,
        })).sort((a, b) => a.actor.localeCompare(b.actor)),
      )
    })

    it('finds an alteration of any one row, naming that entry, and verifies again once it is undone', async () => {
      const { db, trail } = await fresh()
      for (let i = 1; i <= 40; i++) {
        await trail.append({
          action: 'pay',
          actor: `u${i}`,
          subject: `orders/${i}`,
          data: { amount: i * 10 },
        })
      }
      const alterations: [string, string][] = [
        ['data', `data = jsonb_set(data, '{amount}', '999999')`],
        ['actor', `actor = 'mallory'`],
        ['action', `action = 'refund'`],
        ['subject', 'subject = null'],
        ['at', `at = at + interval '1 second'`],
        ['prev_hash', `prev_hash = repeat('f', 64)`],
      ]
      for (const [i, [column, set]] of alterations.entries()) {
        // The first, the last and rows between: every one of them must be caught.
        const seq = [1, 40, 7, 19, 23, 33][i]!
        const [original] = await db.query<Record<string, unknown>>(
          'select to_jsonb(e) as row from keel_audit_entries e where seq = $1',
          [seq],
        )
        await tamper(db, `update keel_audit_entries set ${set} where seq = $1`, [seq])
        const check = await trail.verify()
        expect(check, column).toMatchObject({ ok: false, brokenAt: seq, entries: seq - 1 })
        await tamper(
          db,
          `update keel_audit_entries e set (at, actor, action, subject, data, prev_hash, hash) =
             (select r.at, r.actor, r.action, r.subject, r.data, r.prev_hash, r.hash
              from jsonb_populate_record(null::keel_audit_entries, ($1::jsonb)->'row') r)
           where seq = $2`,
          [original, seq],
        )
        expect(await trail.verify(), `${column} restored`).toMatchObject({ ok: true, entries: 40 })
      }
    })

    it('finds a rewritten entry whose hash was recomputed, at the entry after it', async () => {
      const { db, trail } = await fresh()
      for (let i = 1; i <= 5; i++) await trail.append({ action: 'pay', data: { amount: i } })
      const [third] = await trail.read({ afterSeq: 2, limit: 1 })
      const forged = { ...third!, data: { amount: 1_000_000 } }
      await tamper(db, 'update keel_audit_entries set data = $1, hash = $2 where seq = 3', [
        forged.data,
        entryHash(forged),
      ])
      expect(await trail.verify()).toMatchObject({
        ok: false,
        brokenAt: 4,
        entries: 3,
        reason: 'entry 4 does not point at the hash of entry 3',
      })
    })

    it('finds a removed entry in the middle and removed entries at the end', async () => {
      const { db, trail } = await fresh()
      for (let i = 1; i <= 6; i++) await trail.append({ action: 'a', data: { i } })
      await tamper(db, 'delete from keel_audit_entries where seq = 6')
      expect(await trail.verify()).toMatchObject({
        ok: false,
        brokenAt: 6,
        entries: 5,
        reason: expect.stringContaining('entries were removed from its end'),
      })
      await tamper(db, 'delete from keel_audit_entries where seq = 3')
      expect(await trail.verify()).toMatchObject({ ok: false, brokenAt: 3, reason: 'entry 3 is missing' })
    })
  })
}
