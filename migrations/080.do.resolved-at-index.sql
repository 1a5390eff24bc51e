-- The CSAT report (hub/routes/reports.ts) counts an account's resolutions in a time range: without this
-- it reads every conversation of the account (400k conversations: 84 ms for 30 days, 14 ms with it).
BEGIN;
CREATE INDEX conversations_resolved_idx ON conversations (account_id, resolved_at) WHERE resolved_at IS NOT NULL;
COMMIT;
