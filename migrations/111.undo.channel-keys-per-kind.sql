BEGIN;
DROP INDEX IF EXISTS channels_external_key;
ALTER TABLE channels ADD CONSTRAINT channels_kind_external_key_key UNIQUE (kind, external_key);
COMMIT;
