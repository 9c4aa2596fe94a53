-- Created by keel migrate generate from resources/todos.yaml (resource todos, version 1).
-- migrate:up
create table "todos" (
  "id" uuid not null default gen_random_uuid(),
  "title" varchar(200) not null,
  "done" boolean not null default false,
  "priority" text not null default 'normal',
  "due" date,
  "notes" text,
  "owner_id" uuid not null,
  "created_at" timestamptz not null default now(),
  "updated_at" timestamptz not null default now(),
  "deleted_at" timestamptz,
  constraint "todos_pkey" primary key ("id"),
  constraint "todos_title_check" check (char_length("title") >= 1),
  constraint "todos_priority_check" check ("priority" in ('low', 'normal', 'high')),
  constraint "todos_owner_id_fkey" foreign key ("owner_id") references "users" ("id") on delete restrict
);

create index "todos_owner_id_created_at_idx" on "todos" ("owner_id", "created_at");

-- migrate:down
drop table "todos";
