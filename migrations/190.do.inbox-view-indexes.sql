-- Inbox views on a large account (#16). Row-level security makes the planner guess every tenant is an
-- average one, so a filtered list must not depend on its guess: each view (status; status + assignee
-- for Mine and one agent's; status + team) gets an index in the list's own order (last activity, then
-- id), and a page is the first rows of one index range, whatever the tenant's size. Unassigned gets a
-- partial index: `assignee_id IS NULL` is no equality, so the planner would not take the order from
-- behind it (it read and sorted all 1,385 unassigned open conversations of a 50,000 one).
-- Without a status, team and assignee filters walk conversations_list_idx (one agent's or team's share
-- of the account comes up within a few thousand entries), so they get no index of their own: every
-- index here costs each ingested message an entry (last_message_at changes with every message).
BEGIN;
DROP INDEX conversations_status_idx;
CREATE INDEX conversations_status_list_idx ON conversations (account_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_status_assignee_list_idx ON conversations (account_id, status, assignee_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_status_unassigned_list_idx ON conversations (account_id, status, last_message_at DESC, id DESC) WHERE assignee_id IS NULL;
CREATE INDEX conversations_status_team_list_idx ON conversations (account_id, status, team_id, last_message_at DESC, id DESC);
COMMIT;
