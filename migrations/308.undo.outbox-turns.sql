BEGIN;
DROP INDEX outbox_due_topic_idx;
COMMIT;
