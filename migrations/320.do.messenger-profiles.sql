-- Messenger customers' names as the User Profile API answered them (GET /{psid} with the Page token), per Page
-- (channel) and customer (PSID): one lookup per customer, not one per message. Only answers are kept: a
-- lookup that failed is asked again with the customer's next message.
BEGIN;

CREATE TABLE messenger_profiles (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  psid text NOT NULL,
  first_name text,
  last_name text,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, psid)
);

ALTER TABLE messenger_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messenger_profiles USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON messenger_profiles TO hummdesk_app;

COMMIT;
