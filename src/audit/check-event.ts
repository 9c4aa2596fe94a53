import { KeelError } from '../errors/index.ts'
import type { AuditEvent } from './entry.ts'

const maxTextLength = 512
// String.prototype.isWellFormed is ES2024, past this project's target.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Checks an event before it is hashed and returns its data as the database will return it.
 * Only values `jsonb` keeps exactly may go in: a value it would change (a NUL character, a lone
 * surrogate, NaN) would make a true entry fail verification later.
 */
export function checkEvent(event: AuditEvent): {
  action: string
  actor: string | null
  subject: string | null
  data: unknown
} {
  if (typeof event !== 'object' || event === null) {
    throw invalid('the event must be an object with an action')
  }
  const action = text(event.action, 'action', true) as string
  const actor = text(event.actor, 'actor', false)
  const subject = text(event.subject, 'subject', false)
  checkJson(event.data ?? {}, 'data')
  // Through JSON once: what is hashed is what jsonb stores (Dates become strings, undefined keys go).
  const data: unknown = JSON.parse(JSON.stringify(event.data ?? {}))
  return { action, actor, subject, data }
}

function text(value: unknown, key: string, required: boolean): string | null {
  if (value === undefined || value === null) {
    if (required) throw invalid(`${key} is required`)
    return null
  }
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${key} must be a non-empty string`)
  if (value.length > maxTextLength) throw invalid(`${key} is longer than ${maxTextLength} characters`)
  checkString(value, key)
  return value
}

function checkJson(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
      checkString(value, path)
      return
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`${path} is ${value}, which JSON cannot hold`)
      return
    case 'object':
      if (value === null) return
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw invalid(`${path} is an invalid Date`)
        return
      }
      if (Array.isArray(value)) {
        for (const [i, item] of value.entries()) checkJson(item, `${path}[${i}]`)
        return
      }
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        throw invalid(
          `${path} is a ${value.constructor?.name ?? 'class instance'}; only plain objects are stored`,
        )
      }
      for (const [key, item] of Object.entries(value)) {
        checkString(key, `${path} key`)
        if (item !== undefined) checkJson(item, `${path}.${key}`)
      }
      return
    default:
      throw invalid(`${path} is a ${typeof value}, which JSON cannot hold`)
  }
}

function checkString(value: string, path: string): void {
  if (value.includes('\u0000')) throw invalid(`${path} contains a NUL character, which jsonb cannot store`)
  if (loneSurrogate.test(value)) throw invalid(`${path} contains a lone surrogate, which jsonb cannot store`)
}

const invalid = (message: string) =>
  new KeelError('KEEL_AUDIT_INVALID_EVENT', `audit event: ${message}`, { status: 400 })
