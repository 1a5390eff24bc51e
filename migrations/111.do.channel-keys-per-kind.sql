-- A mailbox address is unique within an account, not across accounts: email is read by each channel's
-- own listener and never routed by address, so another tenant's mailbox neither blocks nor reveals one.
-- Keys webhooks route by (Slack team, widget id, phone number id, Page id) stay unique per kind: their
-- third column is NULL, and NULLS NOT DISTINCT makes those NULLs equal. One index, whose (kind,
-- external_key) prefix still serves the webhook lookup.
BEGIN;
ALTER TABLE channels DROP CONSTRAINT channels_kind_external_key_key;
CREATE UNIQUE INDEX channels_external_key ON channels (kind, external_key, (CASE WHEN kind = 'email' THEN account_id END)) NULLS NOT DISTINCT;
COMMIT;
