import type { IncomingMessage, ServerResponse } from 'node:http'
import inject, { type InjectOptions, type Response } from 'light-my-request'

export type { InjectOptions, Response as InjectResponse } from 'light-my-request'

/**
 * Sends a request through a request listener without a socket: the whole pipeline (guards,
 * validation, problem details, logs and metrics) runs as for a real request.
 */
export function injectRequest(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  options: InjectOptions | string,
): Promise<Response> {
  return inject(handle, options)
}
