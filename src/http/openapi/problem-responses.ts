import { PROBLEM_CONTENT_TYPE } from '../problem.ts'
import type { JsonSchema, OpenApiHeader, OpenApiResponse } from './types.ts'

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** `components/schemas` Keel adds to every document: the shapes of its error responses. */
export const problemSchemas: Readonly<Record<string, JsonSchema>> = {
  ProblemDetails: {
    type: 'object',
    description: 'RFC 9457 problem details: every error response has this shape.',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: {
        type: 'string',
        format: 'uri',
        description: 'Stable URI of the kind of problem, derived from the code.',
        examples: ['urn:keel:problem:not-found'],
      },
      title: { type: 'string', description: 'The status text.', examples: ['Not Found'] },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string', description: 'What went wrong, for a person to read.' },
      instance: { type: 'string' },
      code: {
        type: 'string',
        description: 'Stable Keel error code.',
        examples: ['KEEL_NOT_FOUND'],
      },
      requestId: { type: 'string', description: 'The request id: it finds the matching log lines.' },
    },
    additionalProperties: true,
  },
  ValidationProblem: {
    description: 'A request with values its route does not accept; `errors` lists every one.',
    allOf: [
      schemaRef('ProblemDetails'),
      {
        type: 'object',
        required: ['errors'],
        properties: {
          code: { const: 'KEEL_VALIDATION' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              required: ['pointer', 'message'],
              properties: {
                pointer: {
                  type: 'string',
                  description:
                    'JSON pointer into the request: /params/id, /query/limit, /headers/x-tenant, /body/items/0/qty.',
                  examples: ['/body/email'],
                },
                message: { type: 'string', examples: ['expected a string in email format'] },
              },
            },
          },
        },
      },
    ],
  },
}

const problem = (
  description: string,
  schema: JsonSchema = schemaRef('ProblemDetails'),
  headers?: Record<string, OpenApiHeader>,
): OpenApiResponse => ({
  description,
  ...(headers ? { headers } : {}),
  content: { [PROBLEM_CONTENT_TYPE]: { schema } },
})

const retryAfter: OpenApiHeader = {
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 0 },
}

/** The error responses by component name; operations refer to the ones that apply to them. */
export const problemResponses = {
  ValidationFailed: problem(
    'The request has values its schema does not accept (code KEEL_VALIDATION); `errors` lists each with its JSON pointer.',
    schemaRef('ValidationProblem'),
  ),
  BadRequest: problem(
    'The request has values its schema does not accept (KEEL_VALIDATION, with `errors`), or its body is not valid JSON (KEEL_MALFORMED_JSON).',
    { anyOf: [schemaRef('ValidationProblem'), schemaRef('ProblemDetails')] },
  ),
  Unauthorized: problem('The request carries no valid credentials (KEEL_UNAUTHORIZED).'),
  Forbidden: problem(
    'The credentials lack a role or scope the route requires, or the client address is not allowed (KEEL_FORBIDDEN).',
  ),
  NotFound: problem('Nothing exists at this path (KEEL_NOT_FOUND).'),
  Conflict: problem('The request conflicts with the current state of the resource (KEEL_CONFLICT).'),
  Gone: problem('What the request names existed once and is gone for good.'),
  UnprocessableContent: problem(
    'The request is well-formed but cannot be applied: an undeclared field, a reference to something missing, a rule it breaks (KEEL_UNPROCESSABLE).',
  ),
  MethodNotAllowed: problem(
    'The path exists, but not for this method (KEEL_METHOD_NOT_ALLOWED); `Allow` lists the methods it has.',
    undefined,
    { Allow: { description: 'The methods the path allows.', schema: { type: 'string' } } },
  ),
  ContentTooLarge: problem('The request body is larger than the limit (KEEL_BODY_TOO_LARGE).'),
  UnsupportedMediaType: problem('The request body is not JSON (KEEL_UNSUPPORTED_MEDIA_TYPE).'),
  TooManyRequests: problem(
    'The client sent more requests than its limit allows (KEEL_RATE_LIMITED).',
    undefined,
    {
      'Retry-After': retryAfter,
    },
  ),
  InternalError: problem(
    'An unexpected error (KEEL_INTERNAL); the response says nothing more, the request id finds it in the logs.',
  ),
  ServiceUnavailable: problem(
    'The app is starting or draining (KEEL_NOT_READY), or a service it needs to answer is unavailable.',
    undefined,
    {
      'Retry-After': retryAfter,
    },
  ),
  GatewayTimeout: problem('The handler did not answer in time (KEEL_TIMEOUT).'),
} as const satisfies Record<string, OpenApiResponse>

export type ProblemResponseName = keyof typeof problemResponses
