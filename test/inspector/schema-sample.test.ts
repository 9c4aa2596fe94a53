import { type TSchema, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { patternSample, sampleOf } from 'keel/inspector'
import { describe, expect, it } from 'vitest'
import { registerFormats } from '../../src/http/formats.ts'

registerFormats()

/** Asserts the sample passes the schema's validation, as a typed route would run it. */
function expectValid(schema: TSchema): unknown {
  const sample = sampleOf(schema)
  const check = TypeCompiler.Compile(schema)
  const errors = [...check.Errors(sample)].map((e) => `${e.path}: ${e.message}`)
  expect(errors).toEqual([])
  return sample
}

describe('sampleOf', () => {
  it('fills every string format Keel validates with a value that passes', () => {
    for (const format of ['email', 'uuid', 'date-time', 'date', 'time', 'uri', 'ipv4', 'ipv6']) {
      expectValid(Type.String({ format }))
    }
  })

  it('honours string lengths and simple patterns', () => {
    expect(expectValid(Type.String({ minLength: 12 }))).toHaveLength(12)
    expect(expectValid(Type.String({ maxLength: 3 }))).toHaveLength(3)
    expectValid(Type.String({ pattern: '^[A-Z]{3}$' }))
    expectValid(Type.String({ pattern: '^[a-z0-9-]+$', minLength: 2 }))
    expectValid(Type.String({ pattern: '^[0-9]+$' }))
  })

  it('honours number bounds, exclusive bounds and multipleOf', () => {
    expect(expectValid(Type.Integer({ minimum: 5 }))).toBe(5)
    expect(expectValid(Type.Integer({ maximum: -3 }))).toBe(-3)
    expect(expectValid(Type.Number({ exclusiveMinimum: 10, multipleOf: 5 }))).toBe(15)
    expectValid(Type.Integer({ minimum: 1, maximum: 1 }))
    expectValid(Type.Number({ minimum: 0.5, maximum: 0.75 }))
  })

  it('prefers const, default, examples and enum over a made-up value', () => {
    expect(sampleOf(Type.Literal('ship'))).toBe('ship')
    expect(sampleOf(Type.String({ default: 'eur' }))).toBe('eur')
    expect(sampleOf(Type.String({ examples: ['ada@example.com'] }))).toBe('ada@example.com')
    expect(expectValid(Type.Union([Type.Literal('a'), Type.Literal('b')]))).toBe('a')
    expect(sampleOf({ enum: ['red', 'green'] })).toBe('red')
  })

  it('builds nested objects and arrays that pass a closed schema', () => {
    const Order = Type.Object(
      {
        email: Type.String({ format: 'email' }),
        items: Type.Array(
          Type.Object({ sku: Type.String({ minLength: 3 }), qty: Type.Integer({ minimum: 1 }) }),
          { minItems: 2, uniqueItems: true },
        ),
        note: Type.Optional(Type.String({ maxLength: 100 })),
        coupon: Type.Union([Type.String(), Type.Null()]),
        gift: Type.Boolean(),
        tags: Type.Array(Type.String(), { minItems: 3, uniqueItems: true }),
      },
      { additionalProperties: false },
    )
    const sample = expectValid(Order) as { items: unknown[]; note: string }
    expect(sample.items).toHaveLength(2)
    expect(sample.note).toBe('sample')
  })

  it('is deterministic: the same schema gives the same sample', () => {
    const schema = Type.Object({ at: Type.String({ format: 'date-time' }), n: Type.Number() })
    expect(JSON.stringify(sampleOf(schema))).toBe(JSON.stringify(sampleOf(schema)))
  })

  it('stays bounded on a recursive-looking or empty schema', () => {
    expect(sampleOf({})).toBeNull()
    expect(sampleOf(undefined)).toBeNull()
    let deep: Record<string, unknown> = { type: 'string' }
    for (let i = 0; i < 50; i++) deep = { type: 'object', required: ['x'], properties: { x: deep } }
    expect(() => JSON.stringify(sampleOf(deep))).not.toThrow()
  })
})

describe('patternSample', () => {
  it('builds a match for the patterns APIs use', () => {
    for (const source of [
      '^[A-Z]{3}-[0-9]{2}$',
      '^\\d{4}-\\d{2}-\\d{2}$',
      '^(EUR|USD)$',
      '^[a-z][a-z0-9_]{2,31}$',
      '^ord_[0-9a-f]{8}$',
      '^\\+?[0-9]{7,15}$',
      '^[^@\\s]+@[^@\\s]+$',
      '^(?:v)?\\d+\\.\\d+\\.\\d+$',
    ]) {
      const sample = patternSample(source)
      expect(sample, source).toBeDefined()
      expect(new RegExp(source).test(sample!), `${source} → ${sample}`).toBe(true)
    }
  })

  it('gives up on what it cannot build rather than return a wrong guess', () => {
    expect(patternSample('^(a)\\1$')).toBeUndefined()
    expect(patternSample('^(?=x)x$')).toBeUndefined()
    expect(patternSample('^a{1000}$')).toBeUndefined()
    expect(patternSample('^[abc')).toBeUndefined()
  })
})
