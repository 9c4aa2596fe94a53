-- The accounts of the todo example, written by hand (resources/users.yaml describes the columns
-- other resources reference). Emails are stored lower-cased, so the unique constraint is
-- case-insensitive; the app lower-cases before it inserts or looks up, the check makes sure of it.
-- password_hash is `scrypt$N$r$p$salt$key` (see passwords.ts); the password itself is never stored.
-- migrate:up
create table "users" (
  "id" uuid not null default gen_random_uuid(),
  "email" varchar(254) not null,
  "password_hash" text not null,
  "roles" text[] not null default '{member}',
  "created_at" timestamptz not null default now(),
  constraint "users_pkey" primary key ("id"),
  constraint "users_email_key" unique ("email"),
  constraint "users_email_check" check ("email" = lower("email"))
);

-- migrate:down
drop table "users";
