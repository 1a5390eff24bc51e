-- #15: the in-process runner claims job kinds in turns (storage/repositories/outbox.ts claimDue): each
-- topic's first due jobs come from this index, a few entries a topic, however long another topic's backlog.
BEGIN;
CREATE INDEX outbox_due_topic_idx ON outbox (topic, run_after, id) WHERE dispatched_at IS NULL AND done_at IS NULL AND dead_at IS NULL;
COMMIT;
