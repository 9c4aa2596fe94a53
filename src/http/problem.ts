import type { ServerResponse } from 'node:http'
import { isKeelError, type KeelErrorCode } from '../errors/index.ts'
import { isHttpError } from './http-error.ts'

/** An RFC 9457 problem details object, as every Keel error response carries it. */
export interface ProblemDetails {
  /** Stable URI naming the kind of problem: `urn:keel:problem:not-found`. */
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  /** The stable Keel error code (`KEEL_NOT_FOUND`). */
  code: string
  /** The request id, to find the matching log lines. */
  requestId?: string
  [extension: string]: unknown
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** `KEEL_NOT_FOUND` → `urn:keel:problem:not-found`. */
export const problemType = (code: string): string =>
  `urn:keel:problem:${code
    .replace(/^KEEL_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`

/** Builds problem details for a code and status. */
export function problem(
  code: KeelErrorCode | string,
  status: number,
  detail?: string,
  extra: Record<string, unknown> = {},
): ProblemDetails {
  return { type: problemType(code), title: titles[status] ?? 'Error', status, detail, code, ...extra }
}

/**
 * The problem a thrown value becomes. A {@link KeelError} with a 4xx status shows its message;
 * anything else becomes a 500 whose detail says nothing about internals.
 */
export function problemFromError(error: unknown): ProblemDetails {
  // An HttpError was made for the client, whatever its status; other errors only below 500.
  if (isHttpError(error)) return problem(error.code, error.status, error.message, { ...error.extensions })
  if (isKeelError(error) && error.status < 500) return problem(error.code, error.status, error.message)
  return problem(
    'KEEL_INTERNAL',
    500,
    'The server failed to handle the request. The request id identifies it in the logs.',
  )
}

/** Writes `details` as an `application/problem+json` response. */
export function sendProblem(
  res: ServerResponse,
  details: ProblemDetails,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(details)
  res.statusCode = details.status
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  res.setHeader('content-type', PROBLEM_CONTENT_TYPE)
  res.setHeader('content-length', Buffer.byteLength(body))
  res.end(body)
}
