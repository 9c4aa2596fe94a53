import { createApp } from 'keel'

/**
 * The hello showcase: one route and one custom health check. `npm start` runs it on the
 * embedded defaults; keel.yaml beside it sets the service name and a prod profile.
 */
export const app = createApp({ root: import.meta.dirname })

let greetings = 0

app.get('/hello/:name', (ctx) => {
  greetings++
  ctx.log.info({ name: ctx.params.name }, 'greeting')
  return { hello: ctx.params.name, greetings }
})

app.get('/hello', () => ({ hello: 'world' }))

// A custom check: healthy while the greeting counter is sane. Real services check a dependency.
app.health.add({
  name: 'greeter',
  critical: true,
  check: () => ({ ok: greetings < Number.MAX_SAFE_INTEGER, details: { greetings } }),
})
