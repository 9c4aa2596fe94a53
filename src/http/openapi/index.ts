/** OpenAPI 3.1 from the app description, and the routes that serve it with its docs UI. */
export { DOCS_CSP, docsPage } from './docs-page.ts'
export { type OpenApiOptions, openApiDocument } from './document.ts'
export { type OpenApiPath, openApiPaths, type TemplateParam } from './path-template.ts'
export { type OpenApiServing, openApiRoutes } from './routes.ts'
export type {
  JsonSchema,
  OpenApiDocument,
  OpenApiGuard,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiPathItem,
  OpenApiResponse,
  OpenApiRoute,
  OpenApiSecurityScheme,
  OpenApiServer,
  OpenApiSource,
} from './types.ts'
