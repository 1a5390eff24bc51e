-- #12: the outbox relay woke after every ingest commit (and every 500 ms) to read the outbox, mostly finding
-- nothing (a queued surface sync absorbs most requests, migration 290). A commit that really added a job now
-- says so on the `hummdesk_outbox` channel (one notification a transaction: Postgres folds identical ones),
-- so a listening relay reads only then, in whichever hub process it runs.
BEGIN;

CREATE FUNCTION hd_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hummdesk_outbox', '');
  RETURN NULL;
END $$;

-- A row a BEFORE trigger dropped (an absorbed surface sync) fires nothing.
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION hd_outbox_notify();

COMMIT;
