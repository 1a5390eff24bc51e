-- Customer satisfaction ratings a web chat visitor gives after their conversation is resolved.
BEGIN;

-- When the conversation was last resolved: a rating belongs to one resolution, so a conversation
-- reopened and resolved again may be rated again. Set by trigger, whichever path resolves it.
ALTER TABLE conversations ADD COLUMN resolved_at timestamptz;
UPDATE conversations SET resolved_at = updated_at WHERE status = 'resolved';

CREATE FUNCTION hd_conversation_resolved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'resolved' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'resolved') THEN
    NEW.resolved_at := clock_timestamp();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER conversations_resolved_at BEFORE INSERT OR UPDATE OF status ON conversations
  FOR EACH ROW EXECUTE FUNCTION hd_conversation_resolved();

CREATE TABLE csat_ratings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  -- The resolution rated (conversations.resolved_at at the time): one rating per resolution.
  resolved_at timestamptz NOT NULL,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment text CHECK (char_length(comment) <= 2000),
  visitor_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (conversation_id, resolved_at)
);
CREATE INDEX csat_ratings_account_idx ON csat_ratings (account_id, created_at);

ALTER TABLE csat_ratings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON csat_ratings USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON csat_ratings TO hummdesk_app;

COMMIT;
