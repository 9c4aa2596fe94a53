// The peer: a hand-written Fastify + postgres.js server doing what Keel's resource routes do for
// items.yaml: validate, run the same statements, serialize through a response schema. Queries are
// postgres.js tagged templates, as one writes them by hand, which postgres.js prepares.
import Fastify from 'fastify'
import postgres from 'postgres'

const sql = postgres(process.env.DATABASE_URL, { max: 10, onnotice: () => {} })
const app = Fastify({ logger: false })

const item = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    price: { type: 'number' },
    in_stock: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
  },
}

app.get(
  '/v1/items/:id',
  {
    schema: {
      params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      response: { 200: item },
    },
  },
  async (request, reply) => {
    const [row] =
      await sql`select id, name, price, in_stock, created_at from items where id = ${request.params.id}`
    if (!row) return reply.code(404).send({ status: 404, title: 'Not Found' })
    return row
  },
)

app.get(
  '/v1/items',
  {
    schema: {
      querystring: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        additionalProperties: false,
      },
      response: {
        200: {
          type: 'object',
          properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
        },
      },
    },
  },
  async (request) => {
    const limit = request.query.limit
    const rows =
      await sql`select id, name, price, in_stock, created_at from items order by id asc limit ${limit + 1}`
    const more = rows.length > limit
    const items = more ? rows.slice(0, limit) : rows
    const last = items.at(-1)
    const nextCursor = more
      ? Buffer.from(JSON.stringify(['id', last.id, last.id])).toString('base64url')
      : null
    return { items, nextCursor }
  },
)

await app.listen({ port: 0, host: '127.0.0.1' })
process.send?.({ port: app.server.address().port })
// run.ts asks for this process's CPU time around each round.
process.on('message', () => process.send?.(process.cpuUsage()))
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => sql.end())
      .then(() => process.exit(0)),
)
