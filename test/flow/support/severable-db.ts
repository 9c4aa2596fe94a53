import type { Db, Queryable } from 'keel/data'

/** A handle on a shared {@link Db} whose link the test can cut, as a crashed or partitioned worker's. */
export interface SeverableDb {
  /** Queries through this handle reject while severed; `close()` leaves the shared database open. */
  readonly db: Db
  sever(): void
  heal(): void
}

export function severableDb(shared: Db): SeverableDb {
  let severed = false
  const cut = () => Promise.reject(new Error('the connection to the database is severed (test)'))
  const db: Db = {
    driver: shared.driver,
    query: <Row>(sql: string, params?: readonly unknown[]) =>
      severed ? cut() : shared.query<Row>(sql, params),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => (severed ? cut() : shared.transaction(fn)),
    execute: (script: string) => (severed ? cut() : shared.execute(script)),
    openConnections: () => shared.openConnections(),
    close: async () => {},
  }
  return {
    db,
    sever: () => {
      severed = true
    },
    heal: () => {
      severed = false
    },
  }
}
