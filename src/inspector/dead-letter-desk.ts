import { KeelError } from '../errors/index.ts'
import type { FlowsModule } from '../flow/index.ts'
import type { JobsModule } from '../jobs/index.ts'
import { safeBody } from './payload-capture.ts'

/** Which kind of work a dead letter is. */
export type DeadLetterKind = 'flow' | 'job'

/** A flow run or a job that exhausted its retries, as the inspector lists it. */
export interface DeadLetterEntry {
  readonly kind: DeadLetterKind
  /** The run id (flow), or `<queue>:<job id>` (job): what the retry and discard paths take. */
  readonly id: string
  /** The flow's or the queue's name. */
  readonly name: string
  readonly failedAt: string
  readonly createdAt: string
  readonly attempts?: number
  readonly error: {
    readonly message: string
    readonly code?: string
    readonly step?: string
    readonly phase?: string
  }
  /** The run's input or the job's data, redacted and capped. */
  readonly data?: unknown
}

/** Largest input or data shown with a dead letter. */
const maxDataBytes = 4096

/**
 * Dead letters of the flows and jobs modules the inspector was given, in one list, with retry
 * and discard. Flows: `runner.deadLetters()`, `retry()` (a fresh set of attempts at the step that
 * gave up), `discard()` (compensating first). Jobs: `jobs.deadLetters` on every queue the module
 * defines (retry keeps the job id, so effects keyed by it stay exactly-once).
 */
export class DeadLetterDesk {
  readonly #flows: readonly FlowsModule[]
  readonly #jobs: readonly JobsModule[]

  constructor(flows: readonly FlowsModule[], jobs: readonly JobsModule[]) {
    this.#flows = flows
    this.#jobs = jobs
  }

  /** What the desk can see, for the API's index. */
  get sources(): { flows: string[]; jobs: string[] } {
    return { flows: this.#flows.map((m) => m.name), jobs: this.#jobs.map((m) => m.name) }
  }

  /** Newest first, at most `limit` of each kind. */
  async list(options: { kind?: DeadLetterKind; limit: number }): Promise<DeadLetterEntry[]> {
    const out: DeadLetterEntry[] = []
    if (options.kind !== 'job') {
      const seen = new Set<string>()
      for (const module of this.#flows) {
        // Flows modules on one database share its run table: a run shows once.
        for (const run of await module.runner.deadLetters({ limit: options.limit })) {
          if (seen.has(run.id)) continue
          seen.add(run.id)
          out.push({
            kind: 'flow',
            id: run.id,
            name: run.flow,
            failedAt: run.updatedAt.toISOString(),
            createdAt: run.createdAt.toISOString(),
            attempts: run.executions,
            error: {
              message: run.error?.message ?? 'the run is dead',
              ...(run.error?.code ? { code: run.error.code } : {}),
              ...(run.error?.step ? { step: run.error.step, phase: run.error.phase } : {}),
            },
            data: safeBody(run.input, maxDataBytes).value,
          })
        }
      }
    }
    if (options.kind !== 'flow') {
      for (const module of this.#jobs) {
        for (const queue of module.describe().jobs) {
          for (const letter of await module.deadLetters.list(queue.name, { limit: options.limit })) {
            out.push({
              kind: 'job',
              id: `${letter.queue}:${letter.id}`,
              name: letter.queue,
              failedAt: letter.failedAt.toISOString(),
              createdAt: letter.createdAt.toISOString(),
              attempts: letter.attempts,
              error: { message: errorMessage(letter.error) },
              data: safeBody(letter.data, maxDataBytes).value,
            })
          }
        }
      }
    }
    return out.sort((a, b) => (a.failedAt < b.failedAt ? 1 : a.failedAt > b.failedAt ? -1 : 0))
  }

  /** Gives the dead letter another go. @throws KeelError 404 when there is none with this id. */
  async retry(kind: DeadLetterKind, id: string): Promise<void> {
    if (kind === 'flow') {
      await (await this.#flowModuleOf(id)).runner.retry(id)
      return
    }
    const { module, queue, jobId } = this.#jobOf(id)
    await module.deadLetters.retry(queue, jobId)
  }

  /** Gives the dead letter up for good (a flow run is compensated first). */
  async discard(kind: DeadLetterKind, id: string): Promise<void> {
    if (kind === 'flow') {
      await (await this.#flowModuleOf(id)).runner.discard(id)
      return
    }
    const { module, queue, jobId } = this.#jobOf(id)
    await module.deadLetters.discard(queue, jobId)
  }

  /** The flows module that runs the dead run's flow. */
  async #flowModuleOf(runId: string): Promise<FlowsModule> {
    for (const module of this.#flows) {
      const run = await module.runner.get(runId)
      if (run && module.flows.some((f) => f.name === run.flow)) return module
    }
    throw new KeelError(
      'KEEL_FLOW_RUN_NOT_FOUND',
      `no flow run of the inspected flows modules has id "${runId}"`,
      {
        status: 404,
      },
    )
  }

  #jobOf(id: string): { module: JobsModule; queue: string; jobId: string } {
    const colon = id.lastIndexOf(':')
    const queue = colon === -1 ? '' : id.slice(0, colon)
    const jobId = id.slice(colon + 1)
    const module = this.#jobs.find((m) => m.describe().jobs.some((q) => q.name === queue))
    if (!module) {
      throw new KeelError(
        'KEEL_JOB_NOT_FOUND',
        `no inspected jobs module has a queue "${queue}" (ids are <queue>:<job id>)`,
        {
          status: 404,
        },
      )
    }
    return { module, queue, jobId }
  }
}

function errorMessage(error: unknown): string {
  if (typeof error === 'string') return error
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message
  }
  return error === null || error === undefined ? 'the job failed' : JSON.stringify(error)
}
