import { describeIncludedRelations } from './include-relations-contract.ts'

describeIncludedRelations('PGlite', async () => undefined)
