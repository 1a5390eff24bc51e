-- #13: teams_activities keeps only about a week of handled activity ids (pruned as claims are written,
-- hub/teams/store.ts). What outlives a claim, that a message was written in a Teams thread (its text is
-- there already), moves onto the message itself.
BEGIN;
UPDATE messages m SET metadata = m.metadata || '{"writtenIn":"teams"}'::jsonb
  FROM teams_activities a WHERE a.message_id = m.id AND NOT m.metadata ? 'writtenIn';
COMMIT;
