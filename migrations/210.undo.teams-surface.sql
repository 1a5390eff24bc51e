BEGIN;
DROP INDEX IF EXISTS users_teams_aad_object_id;
ALTER TABLE users DROP COLUMN IF EXISTS teams_aad_object_id;
DROP TABLE IF EXISTS teams_activities;
DROP TABLE IF EXISTS teams_pending_installs;
COMMIT;
