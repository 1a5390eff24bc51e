BEGIN;
DROP TABLE IF EXISTS messenger_profiles;
COMMIT;
