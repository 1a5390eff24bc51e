BEGIN;
DROP INDEX IF EXISTS conversations_assignee_idx;
DROP TABLE IF EXISTS routing_state;
DROP TABLE IF EXISTS routing_rules;
COMMIT;
