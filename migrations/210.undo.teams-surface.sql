BEGIN;
DROP INDEX IF EXISTS users_teams_user_id;
DROP TABLE IF EXISTS teams_activities;
DROP TABLE IF EXISTS teams_pending_installs;
COMMIT;
