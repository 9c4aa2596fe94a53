import type { TObject } from '@sinclair/typebox'
import type { TemplateParam } from './path-template.ts'
import type { SchemaComponents } from './schema-components.ts'
import type { JsonSchema, OpenApiParameter } from './types.ts'

/** Headers OpenAPI describes elsewhere (content negotiation, security); parameters naming them are ignored. */
const RESERVED_HEADERS = new Set(['accept', 'content-type', 'authorization'])

/** What {@link operationParameters} reads from a route. */
export interface ParameterSources {
  /** Path parameters in template order. */
  pathParams: readonly TemplateParam[]
  params?: TObject
  query?: TObject
  headers?: TObject
  /** `GET /users/:id`, for error messages. */
  where: string
}

/**
 * The parameters of an operation: every path parameter of the template (typed by the params
 * schema when it declares it, else a string, with the pattern of a `:id(regex)`), then the
 * query and header parameters the schemas declare, required unless optional. Array query
 * parameters are `style: form, explode: true` (`?tag=a&tag=b`), as the query parser reads them.
 */
export function operationParameters(
  sources: ParameterSources,
  components: SchemaComponents,
): OpenApiParameter[] {
  const out: OpenApiParameter[] = []
  const pathProps = sources.params?.properties ?? {}
  for (const param of sources.pathParams) {
    const declared = pathProps[param.name]
    const schema: JsonSchema = declared
      ? components.convert(declared, `${sources.where} params.${param.name}`)
      : param.pattern
        ? { type: 'string', pattern: param.pattern }
        : { type: 'string' }
    out.push(parameter(param.openApiName, 'path', true, schema, declared))
  }
  for (const [part, location] of [
    ['query', 'query'],
    ['headers', 'header'],
  ] as const) {
    const object = sources[part]
    if (!object) continue
    const required = new Set(object.required ?? [])
    for (const [name, property] of Object.entries(object.properties)) {
      if (location === 'header' && RESERVED_HEADERS.has(name.toLowerCase())) continue
      const schema = components.convert(property, `${sources.where} ${part}.${name}`)
      const param = parameter(name, location, required.has(name), schema, property)
      if (isArray(schema)) {
        param.style = location === 'query' ? 'form' : 'simple'
        param.explode = location === 'query'
      }
      out.push(param)
    }
  }
  return out
}

function parameter(
  name: string,
  location: OpenApiParameter['in'],
  required: boolean,
  schema: JsonSchema,
  source: unknown,
): OpenApiParameter {
  const { description, deprecated } = (source ?? {}) as { description?: unknown; deprecated?: unknown }
  return {
    name,
    in: location,
    ...(typeof description === 'string' ? { description } : {}),
    required,
    ...(deprecated === true ? { deprecated: true } : {}),
    schema,
  }
}

const isArray = (schema: JsonSchema): boolean =>
  typeof schema === 'object' &&
  (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array')))
