import { Type } from '@sinclair/typebox'
import { defineConfigSection } from '../config/index.ts'

/** The `webhooks` config section. */
export const webhooksSection = defineConfigSection('webhooks', {
  timeoutMs: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 10_000,
    description: 'how long one delivery attempt waits for the receiver to answer',
  }),
  allowPrivateNetworks: Type.Optional(
    Type.Boolean({
      description:
        'deliver to loopback and private addresses; unset: yes in the test profile only (server-side request forgery)',
    }),
  ),
})
