-- The kb.reindex lease names its holder: a run whose lease ran out while it waited on the embedding
-- endpoint finds another run holding it, and then writes nothing and leaves that lease alone.
BEGIN;
ALTER TABLE kb_index ADD COLUMN lease_owner uuid;
COMMIT;
