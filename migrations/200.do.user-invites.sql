-- One-time invite links (POST /api/v1/users/:id/invite): the invitee sets their own password with the
-- token (POST /api/v1/auth/invite); only its SHA-256 is stored, and a link works once, until it expires.
BEGIN;

CREATE TABLE user_invites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_invites_user ON user_invites (account_id, user_id);

ALTER TABLE user_invites ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_invites USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON user_invites TO hummdesk_app;

COMMIT;
