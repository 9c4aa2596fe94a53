/** A path parameter found in a route template. */
export interface TemplateParam {
  /** The name in the route's `ctx.params` (`id`; `*` for a wildcard). */
  name: string
  /** The name in the OpenAPI path (`id`; `wildcard` for `*`). */
  openApiName: string
  /** The regular expression of `:id(^\\d+)`, anchored for JSON Schema's `pattern`. */
  pattern?: string
}

/** One OpenAPI path made from a route template. */
export interface OpenApiPath {
  path: string
  params: TemplateParam[]
}

const OPTIONAL_PARAM = /(\/:[^/()]*?)\?(\/?)/

/**
 * Converts a find-my-way route template to OpenAPI paths: `/users/:id` → `/users/{id}`,
 * `/files/*` → `/files/{wildcard}`, `/range/:from-:to` → `/range/{from}-{to}`,
 * `/name::verb` → `/name:verb`, and `:id(^\\d+)` keeps its regular expression as a pattern. A
 * trailing slash is dropped (the router ignores it). An optional last parameter (`/:page?`)
 * gives two paths, with and without it, as the router registers both.
 *
 * @example
 * ```ts
 * openApiPaths('/users/:id') // [{ path: '/users/{id}', params: [{ name: 'id', openApiName: 'id' }] }]
 * ```
 */
export function openApiPaths(template: string): OpenApiPath[] {
  if (OPTIONAL_PARAM.test(template)) {
    return [
      convert(template.replace(OPTIONAL_PARAM, '$1$2')),
      convert(template.replace(OPTIONAL_PARAM, '$2') || '/'),
    ]
  }
  return [convert(template)]
}

function convert(template: string): OpenApiPath {
  const params: TemplateParam[] = []
  let path = ''
  let i = 0
  while (i < template.length) {
    const char = template[i]
    if (char === ':' && template[i + 1] === ':') {
      path += ':'
      i += 2
    } else if (char === ':') {
      let end = i + 1
      while (end < template.length && !'(-./'.includes(template[end]!)) end++
      const name = template.slice(i + 1, end)
      const param: TemplateParam = { name, openApiName: name }
      if (template[end] === '(') {
        const close = closingParenthesis(template, end)
        param.pattern = anchored(template.slice(end + 1, close))
        end = close + 1
      }
      params.push(param)
      path += `{${name}}`
      i = end
    } else if (char === '*') {
      params.push({ name: '*', openApiName: 'wildcard' })
      path += '{wildcard}'
      i++
    } else {
      path += char
      i++
    }
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  return { path, params }
}

function closingParenthesis(template: string, open: number): number {
  let depth = 0
  for (let i = open; i < template.length; i++) {
    if (template[i] === '\\') i++
    else if (template[i] === '(') depth++
    else if (template[i] === ')' && --depth === 0) return i
  }
  return template.length - 1
}

/** `^\d+` or `\d+$` → `^(?:\d+)$`: find-my-way matches the whole value whatever the anchors say. */
function anchored(regex: string): string {
  const body = regex.replace(/^\^/, '').replace(/(?<!\\)\$$/, '')
  return `^(?:${body})$`
}
