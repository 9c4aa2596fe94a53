// The inspector bench's app as a standalone server on PORT, for bench/profile-http.ts:
//   PORT=... INSPECTOR=1 node --conditions=source --import tsx bench/inspector/server.ts
// INSPECTOR=1 serves it with the inspector module; unset, without.
import { build } from './app.ts'

const app = build(process.env.INSPECTOR === '1')
await app.start()
process.once('SIGTERM', async () => {
  await app.stop()
  process.exit(0)
})
