-- Refresh tokens, rotated on every use (see sessions.ts). Only the SHA-256 of a token is stored:
-- a token is 256 random bits, so a fast hash is enough, and a copy of this table cannot be used
-- to log in. Tokens issued from one login share a family_id; presenting a token that was already
-- rotated (revoked_at set) is reuse, and revokes the whole family.
-- migrate:up
create table "refresh_tokens" (
  "id" uuid not null default gen_random_uuid(),
  "user_id" uuid not null,
  "family_id" uuid not null,
  "token_hash" text not null,
  "created_at" timestamptz not null default now(),
  "expires_at" timestamptz not null,
  "revoked_at" timestamptz,
  "replaced_by" uuid,
  constraint "refresh_tokens_pkey" primary key ("id"),
  constraint "refresh_tokens_token_hash_key" unique ("token_hash"),
  constraint "refresh_tokens_user_id_fkey" foreign key ("user_id") references "users" ("id") on delete cascade,
  constraint "refresh_tokens_replaced_by_fkey" foreign key ("replaced_by") references "refresh_tokens" ("id")
);

create index "refresh_tokens_family_id_idx" on "refresh_tokens" ("family_id");
create index "refresh_tokens_user_id_idx" on "refresh_tokens" ("user_id");

-- migrate:down
drop table "refresh_tokens";
