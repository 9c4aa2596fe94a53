import type { Db } from 'keel/data'
import { Gate } from './gate.ts'

/**
 * A handle whose next heartbeat is held twice: before it reaches the database (`execute`) and
 * before its answer reaches the runner (`answer`), as a slow pool or network can.
 */
export function heldHeartbeat(shared: Db) {
  const requested = new Gate()
  const execute = new Gate()
  const executed = new Gate()
  const answer = new Gate()
  let armed = true
  const db: Db = {
    ...shared,
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      if (!armed || !sql.startsWith('update keel_flow_runs set lease_until'))
        return shared.query<Row>(sql, params)
      armed = false
      requested.open()
      await execute.promise
      const rows = await shared.query<Row>(sql, params)
      executed.open()
      await answer.promise
      return rows
    },
    transaction: (fn) => shared.transaction(fn),
    close: async () => {},
  }
  return { db, requested, execute, executed, answer }
}
