-- "Which articles drafts cite most" (GET /api/v1/kb/cited) reads one account's drafts of the last days:
-- an index in that order, so the read is one range of this account's drafts, not every tenant's.
BEGIN;
CREATE INDEX IF NOT EXISTS drafts_account_created_idx ON drafts (account_id, created_at);
COMMIT;
