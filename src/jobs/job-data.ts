import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { KeelError } from '../errors/index.ts'
import type { AnyJobQueue } from './queue.ts'

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>()

const checkerOf = (schema: TSchema): TypeCheck<TSchema> => {
  let check = compiled.get(schema)
  if (!check) {
    check = TypeCompiler.Compile(schema)
    compiled.set(schema, check)
  }
  return check
}

/**
 * Checks job data against its queue's schema with TypeBox's compiled validator. Data that is not
 * a JSON object, or that the schema rejects, fails with `KEEL_JOB_INVALID_DATA` naming the queue
 * and each failing path (`/items/0/qty`). `where` says when: at `send`, at work time, for a cron.
 *
 * @throws KeelError `KEEL_JOB_INVALID_DATA` (status 422)
 */
export function checkJobData(queue: AnyJobQueue, data: unknown, where: string): void {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new KeelError(
      'KEEL_JOB_INVALID_DATA',
      `queue "${queue.name}" (${where}): job data must be a JSON object, got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}`,
      { status: 422 },
    )
  }
  const check = checkerOf(queue.options.data)
  if (check.Check(data)) return
  const problems = [...check.Errors(data)]
    .slice(0, 10)
    .map((error) => `${error.path || '/'} ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`)
  throw new KeelError(
    'KEEL_JOB_INVALID_DATA',
    `queue "${queue.name}" (${where}): job data does not match the schema: ${problems.join('; ')}`,
    { status: 422 },
  )
}
