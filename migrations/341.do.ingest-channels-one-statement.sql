-- #12: a hub serving several Slack workspaces (or web chats) of one account ingested a batch's messages with one
-- statement per channel, each its own transaction and commit (2,405 statements for 3,120 messages in the Slack
-- benchmark's four workspaces). One statement now takes every channel's rows of the account: one round trip
-- and one commit per batch. hd_ingest_messages is unchanged; each channel's rows go through it in turn.
BEGIN;

CREATE FUNCTION hd_ingest_channels_as(p_account uuid, p_groups jsonb)
RETURNS TABLE (grp integer, ord integer, result text, conversation_id uuid, message_id uuid, conversation_created boolean,
               reopened boolean, participant boolean, notice_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  g jsonb;
  k integer := 0;
BEGIN
  -- As hd_ingest_messages_as: the app role (row-level security applies) and the tenant, for this transaction only.
  PERFORM set_config('role', 'hummdesk_app', true), set_config('hummdesk.account_id', p_account::text, true);
  FOR g IN SELECT value FROM jsonb_array_elements(p_groups) LOOP
    RETURN QUERY SELECT k, m.* FROM hd_ingest_messages(p_account, (g->>'channel')::uuid, (g->>'team')::uuid, g->'rows') m;
    k := k + 1;
  END LOOP;
END $$;

COMMIT;
