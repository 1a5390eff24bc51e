BEGIN;
DROP INDEX conversations_status_team_list_idx;
DROP INDEX conversations_status_assignee_list_idx;
DROP INDEX conversations_status_unassigned_list_idx;
DROP INDEX conversations_status_list_idx;
CREATE INDEX conversations_status_idx ON conversations (account_id, status, last_message_at DESC);
COMMIT;
