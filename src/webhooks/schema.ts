import type { Migration } from '../data/index.ts'

/** The subscriptions and the delivery record, applied by the webhooks module at start (scope `keel_webhooks`). */
export const webhookMigrations: readonly Migration[] = [
  {
    id: '0001_subscriptions_deliveries',
    up: `
create table keel_webhook_subscriptions (
  id uuid primary key default gen_random_uuid(),
  url text not null,
  events text[] not null,
  secret text not null,
  active boolean not null default true,
  disabled_reason text,
  created_at timestamptz not null default now()
);
create table keel_webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  subscription_id uuid not null references keel_webhook_subscriptions (id) on delete cascade,
  event text not null,
  payload jsonb not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  last_status integer,
  last_error text,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index keel_webhook_deliveries_by_subscription on keel_webhook_deliveries (subscription_id, created_at);
`,
    down: `
drop table keel_webhook_deliveries;
drop table keel_webhook_subscriptions;
`,
  },
  {
    // A tenant's subscriptions receive that tenant's events only; those without a tenant are the
    // operator's and receive every event.
    id: '0002_subscription_tenant',
    up: `
alter table keel_webhook_subscriptions add column tenant text;
create index keel_webhook_subscriptions_by_tenant on keel_webhook_subscriptions (tenant);
`,
    down: `
drop index keel_webhook_subscriptions_by_tenant;
alter table keel_webhook_subscriptions drop column tenant;
`,
  },
]
