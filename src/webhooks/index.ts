export { type DeliveryAttempt, type DeliveryResult, deliverWebhook } from './deliver.ts'
export { privateNetworks } from './private-networks.ts'
export { type ReadWebhookOptions, type ReceivedWebhook, readWebhook } from './receive.ts'
export { webhookChanges } from './resource-events.ts'
export { webhookMigrations } from './schema.ts'
export { generateWebhookSecret, secretKey } from './secret.ts'
export {
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  type WebhookMessage,
} from './signature.ts'
export {
  type WebhookDelivery,
  type WebhookSubscription,
  type WebhooksModule,
  type WebhooksOptions,
  webhooks,
} from './webhooks-module.ts'
export { webhooksSection } from './webhooks-section.ts'
