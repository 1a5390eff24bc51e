-- Core tenant model, conversation store and outbox. Every tenant table carries account_id and an RLS policy.
BEGIN;

CREATE EXTENSION IF NOT EXISTS vector;

DO $$ BEGIN
  CREATE ROLE hummdesk_app NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT hummdesk_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO hummdesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO hummdesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO hummdesk_app;

-- The tenant of the current transaction; NULL (and so no rows) when unset.
CREATE FUNCTION hd_account() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('hummdesk.account_id', true), '')::uuid $$;

CREATE TABLE accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  slug text NOT NULL UNIQUE,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'agent', 'viewer')),
  password_hash text,
  slack_user_id text,
  teams_user_id text,
  available boolean NOT NULL DEFAULT true,
  max_open_conversations integer,
  skills text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE teams (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name)
);

CREATE TABLE team_members (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, user_id)
);

CREATE TABLE channels (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('email', 'whatsapp', 'messenger', 'slack', 'teams', 'webchat')),
  name text NOT NULL,
  -- How a webhook finds its installation: Slack team_id, WhatsApp phone_number_id, Page id, mailbox, widget id.
  external_key text NOT NULL,
  config jsonb NOT NULL DEFAULT '{}',
  secrets_enc text,
  team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, external_key)
);

CREATE TABLE contacts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text,
  email text,
  phone text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_email_idx ON contacts (account_id, lower(email));

CREATE TABLE contact_identities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  external_id text NOT NULL,
  display_name text,
  address text,
  verified boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel_id, external_id)
);

CREATE TABLE conversations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  thread_key text NOT NULL,
  subject text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
  priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  category text,
  language text,
  sentiment text CHECK (sentiment IN ('negative', 'neutral', 'positive')),
  confidence real,
  assignee_id uuid REFERENCES users(id) ON DELETE SET NULL,
  team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
  snoozed_until timestamptz,
  last_message_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel_id, thread_key)
);
CREATE INDEX conversations_list_idx ON conversations (account_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_status_idx ON conversations (account_id, status, last_message_at DESC);

CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  author_kind text NOT NULL CHECK (author_kind IN ('contact', 'agent', 'ai', 'system')),
  author_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  is_private boolean NOT NULL DEFAULT false,
  text text NOT NULL DEFAULT '',
  html text,
  external_id text,
  in_reply_to text,
  delivery_status text CHECK (delivery_status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'unknown')),
  delivery_error text,
  auto_reply boolean NOT NULL DEFAULT false,
  sent_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  metadata jsonb NOT NULL DEFAULT '{}',
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED
);
CREATE UNIQUE INDEX messages_external_key ON messages (channel_id, external_id);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, sent_at, id);
CREATE INDEX messages_search_idx ON messages USING gin (search);

CREATE TABLE attachments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('image', 'file', 'audio', 'video')),
  name text,
  mime_type text,
  size integer,
  source_ref text,
  blob_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_message_idx ON attachments (message_id);

CREATE TABLE ai_results (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  message_id uuid REFERENCES messages(id) ON DELETE CASCADE,
  provider text NOT NULL,
  model text NOT NULL,
  latency_ms integer NOT NULL,
  category text,
  priority text,
  sentiment text,
  language text,
  confidence real,
  evidence jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_results_conversation_idx ON ai_results (conversation_id, created_at);

CREATE TABLE drafts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
  ai_result_id uuid REFERENCES ai_results(id) ON DELETE SET NULL,
  text text NOT NULL,
  extractive boolean NOT NULL DEFAULT false,
  citations jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted', 'edited', 'rejected', 'superseded')),
  final_text text,
  decided_by uuid REFERENCES users(id) ON DELETE SET NULL,
  decided_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drafts_conversation_idx ON drafts (conversation_id, created_at);

CREATE TABLE surface_threads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  surface text NOT NULL CHECK (surface IN ('slack', 'teams')),
  -- Slack: `${channel}:${ts}`; Teams: conversation reference id + activity id.
  surface_key text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (surface, surface_key)
);
CREATE INDEX surface_threads_conversation_idx ON surface_threads (conversation_id, surface);

-- Transactional outbox: written with the change it announces, relayed to the queue after commit.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  run_after timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz,
  done_at timestamptz,
  dead_at timestamptz,
  last_error text
);
CREATE INDEX outbox_pending_idx ON outbox (run_after, id) WHERE dispatched_at IS NULL AND done_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_dead_idx ON outbox (account_id, dead_at) WHERE dead_at IS NOT NULL;

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  actor_kind text NOT NULL,
  actor_id text,
  action text NOT NULL,
  target_kind text,
  target_id text,
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_account_idx ON audit_log (account_id, created_at DESC);

-- Long-lived listeners' positions (IMAP UIDVALIDITY + last UID), advanced only after ingest commits.
CREATE TABLE channel_checkpoints (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  key text NOT NULL,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, key)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'refresh_tokens', 'api_keys', 'teams', 'team_members', 'channels', 'contacts',
    'contact_identities', 'conversations', 'messages', 'attachments', 'ai_results', 'drafts', 'surface_threads',
    'outbox', 'audit_log', 'channel_checkpoints']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (account_id = hd_account()) WITH CHECK (account_id = hd_account())', t);
  END LOOP;
END $$;
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts USING (id = hd_account()) WITH CHECK (id = hd_account());

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO hummdesk_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO hummdesk_app;
-- WITH CHECK above also stops an UPDATE from moving a row to another account.

COMMIT;
