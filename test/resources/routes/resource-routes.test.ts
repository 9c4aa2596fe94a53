import { describeResourceRoutes } from './resource-routes-contract.ts'

describeResourceRoutes('PGlite', async () => undefined)
