import { describeWebhooks } from './webhooks-module-contract.ts'

describeWebhooks('PGlite', async () => undefined)
