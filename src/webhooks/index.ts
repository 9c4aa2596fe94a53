export { type ReadWebhookOptions, type ReceivedWebhook, readWebhook } from './receive.ts'
export { generateWebhookSecret, secretKey } from './secret.ts'
export {
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  type WebhookMessage,
} from './signature.ts'
