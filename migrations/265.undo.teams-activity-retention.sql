BEGIN;
UPDATE messages SET metadata = metadata - 'writtenIn' WHERE metadata->>'writtenIn' = 'teams';
COMMIT;
