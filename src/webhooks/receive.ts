import { KeelError } from '../errors/index.ts'
import { type RequestContext, readBodyText } from '../http/index.ts'
import { type VerifyWebhookOptions, verifyWebhook } from './signature.ts'

/** Options of {@link readWebhook}. */
export interface ReadWebhookOptions extends VerifyWebhookOptions {
  /** Largest body accepted, in bytes (413 past it). Default 1 MiB. */
  readonly limitBytes?: number
}

/** A verified inbound delivery. */
export interface ReceivedWebhook {
  readonly id: string
  readonly timestamp: number
  /** The body parsed as JSON, after the signature verified. */
  readonly payload: unknown
}

/**
 * Reads an inbound webhook in a route handler: the raw body (the signature covers its exact
 * bytes, so the route must not declare a `body` schema), verified with {@link verifyWebhook},
 * then parsed as JSON. A bad signature or an old timestamp answers 401 as problem details.
 *
 * @example
 * ```ts
 * app.post('/hooks/payments', async (ctx) => {
 *   const { id, payload } = await readWebhook(ctx, { secrets: [process.env.PAYMENTS_WEBHOOK_SECRET!] })
 *   if (await seen(id)) return { duplicate: true } // within the tolerance window
 *   await handle(payload)
 *   return { received: true }
 * })
 * ```
 */
export async function readWebhook(
  ctx: RequestContext,
  options: ReadWebhookOptions,
): Promise<ReceivedWebhook> {
  const text = await readBodyText(ctx.req, options.limitBytes ?? 1024 * 1024)
  const { id, timestamp } = verifyWebhook(ctx.req.headers, text, options)
  try {
    return { id, timestamp, payload: text.length === 0 ? null : JSON.parse(text) }
  } catch (error) {
    throw new KeelError(
      'KEEL_MALFORMED_JSON',
      `the webhook body is signed but not JSON: ${(error as Error).message}`,
      {
        status: 400,
      },
    )
  }
}
