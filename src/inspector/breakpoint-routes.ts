import { Type } from '@sinclair/typebox'
import type { FlowsModule } from '../flow/index.ts'
import type { Guard } from '../http/guard.ts'
import { HttpError } from '../http/http-error.ts'
import type { RouteDefinition } from '../http/route.ts'
import { InternalRoutes } from './api-routes.ts'
import type { Breakpoints } from './breakpoints.ts'

const BreakpointSchema = Type.Object({
  id: Type.String(),
  flow: Type.String(),
  step: Type.String(),
  when: Type.Optional(Type.Object({ pointer: Type.String(), equals: Type.Unknown() })),
  hits: Type.Integer(),
})

const PausedSchema = Type.Object({
  runId: Type.String(),
  flow: Type.String(),
  step: Type.String(),
  key: Type.String(),
  input: Type.Unknown(),
  pausedAt: Type.Number(),
  breakpointId: Type.Union([Type.String(), Type.Null()]),
})

/** What the breakpoint routes need. */
export interface BreakpointRoutesOptions {
  readonly prefix: string
  readonly breakpoints: Breakpoints
  /**
   * The flows modules whose runs the breakpoints gate (`runFlow` runs of their flows too): they name
   * the flows and steps that exist.
   */
  readonly flows: readonly FlowsModule[]
  readonly operator: Guard
  readonly bodyLimitBytes: number
}

/**
 * Breakpoints under `<prefix>/v1/breakpoints` and held runs under `<prefix>/v1/paused`; all need
 * the operator role. Served in development profiles only: a held run holds a worker slot, or the
 * caller of `runFlow` (a request).
 */
export function breakpointRoutes(options: BreakpointRoutesOptions): RouteDefinition[] {
  const { breakpoints, operator } = options
  const api = new InternalRoutes(
    { prefix: `${options.prefix}/v1`, guards: [], tags: ['inspector'] },
    options.bodyLimitBytes,
  )

  api.get(
    '/breakpoints',
    {
      summary: 'The breakpoints set on flow steps',
      guards: [operator],
      response: { 200: Type.Object({ breakpoints: Type.Array(BreakpointSchema) }) },
    },
    () => ({ breakpoints: breakpoints.list() }),
  )

  api.post(
    '/breakpoints',
    {
      summary: 'Stops runs of a flow before a step, when its input matches',
      guards: [operator],
      body: Type.Object({
        flow: Type.String({ minLength: 1, maxLength: 200 }),
        step: Type.String({ minLength: 1, maxLength: 200 }),
        when: Type.Optional(
          Type.Object({
            pointer: Type.String({ pattern: '^(/[^/]*)*$', maxLength: 500 }),
            equals: Type.Unknown(),
          }),
        ),
      }),
      response: { 201: BreakpointSchema },
      problems: [422],
    },
    (ctx) => {
      const { flow, step } = ctx.body
      const steps = stepsOf(options.flows, flow)
      if (!steps) {
        throw new HttpError(
          422,
          'KEEL_UNPROCESSABLE',
          `no flow "${flow}" runs here; flows: ${flowNames(options.flows)}`,
        )
      }
      if (!steps.includes(step)) {
        throw new HttpError(
          422,
          'KEEL_UNPROCESSABLE',
          `flow "${flow}" has no step "${step}"; steps: ${steps.join(', ')}`,
        )
      }
      ctx.status = 201
      return breakpoints.add(ctx.body)
    },
  )

  api.delete(
    '/breakpoints/:id',
    {
      summary: 'Removes a breakpoint (runs it holds stay held until resumed)',
      guards: [operator],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 204: Type.Null({ description: 'Removed' }) },
      problems: [404],
    },
    (ctx) => {
      if (!breakpoints.remove(ctx.params.id)) {
        throw new HttpError(404, 'KEEL_NOT_FOUND', `no breakpoint ${ctx.params.id}`)
      }
      ctx.status = 204
      return undefined
    },
  )

  api.get(
    '/paused',
    {
      summary: 'Runs held before a step',
      guards: [operator],
      response: { 200: Type.Object({ paused: Type.Array(PausedSchema) }) },
    },
    () => ({ paused: breakpoints.paused() }),
  )

  for (const mode of ['resume', 'step'] as const) {
    api.post(
      `/paused/:runId/${mode}`,
      {
        summary:
          mode === 'resume'
            ? 'Lets a held run go on'
            : 'Runs the held step, then holds the run before the next',
        guards: [operator],
        params: Type.Object({ runId: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 202: Type.Object({ runId: Type.String(), action: Type.String() }) },
        problems: [404],
      },
      (ctx) => {
        if (!breakpoints.release(ctx.params.runId, mode)) {
          throw new HttpError(404, 'KEEL_NOT_FOUND', `run ${ctx.params.runId} is not held at a breakpoint`)
        }
        ctx.status = 202
        return { runId: ctx.params.runId, action: mode }
      },
    )
  }

  return api.definitions
}

/** The step names of `flow` among the modules' flows, from its schematic; undefined if none runs it. */
function stepsOf(modules: readonly FlowsModule[], flow: string): string[] | undefined {
  for (const module of modules) {
    const found = module.flows.find((f) => f.name === flow)
    if (found)
      return found
        .describe()
        .nodes.flatMap((node) => (node.kind === 'step' || node.kind === 'branch' ? [node.name] : []))
  }
  return undefined
}

const flowNames = (modules: readonly FlowsModule[]) =>
  modules.flatMap((m) => m.flows.map((f) => f.name)).join(', ') || '(none)'
