BEGIN;
DROP TABLE IF EXISTS slack_oauth_states;
COMMIT;
