// Keel serving bench/resources/items.yaml from PostgreSQL: GET /v1/items/:id and GET /v1/items.
// Started by run.ts, profile.ts and gc.ts with DATABASE_URL (a schema of its own in search_path);
// listens on a free port and sends it over IPC once ready.
import { join } from 'node:path'
import { createApp } from 'keel/app'
import { database } from 'keel/data'
import { loadResources, serveResources } from 'keel/resources'

const data = database({ migrations: false })
const app = createApp({
  root: import.meta.dirname,
  modules: [data],
  overrides: {
    server: { port: 0, host: '127.0.0.1' },
    log: { level: 'warn' },
    data: { poolSize: 10 },
  },
})
serveResources(app, { database: data, resources: await loadResources(join(import.meta.dirname)) })
await app.start()
process.send?.({ port: app.address!.port })
// run.ts asks for this process's CPU time around each round.
process.on('message', () => process.send?.(process.cpuUsage()))
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)))
