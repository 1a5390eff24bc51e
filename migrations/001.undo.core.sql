BEGIN;
DROP TABLE IF EXISTS channel_checkpoints, audit_log, outbox, surface_threads, drafts, ai_results, attachments,
  messages, conversations, contact_identities, contacts, channels, team_members, teams, api_keys,
  refresh_tokens, users, accounts CASCADE;
DROP FUNCTION IF EXISTS hd_account();
COMMIT;
