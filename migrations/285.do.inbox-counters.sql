-- Inbox view counts without counting (#16): `GET /conversations/counts` counted the account's
-- conversations on every call (50,000 index entries, ~42 ms of database CPU on a large account).
-- A trigger now appends +1/-1 rows per (account, status, assignee) for every conversation created,
-- deleted, or moved between statuses or assignees; a read sums the account's rows (a few hundred at
-- most), and `hd_compact_conversation_counts()` folds them back to one row per group now and then.
-- Append-only: writers never wait for each other on a shared counter row and cannot deadlock on one.
-- No foreign key: an account's own deletion cascades to its conversations, whose trigger then writes
-- rows for an account that is gone (harmless, never read; the compaction of that account never runs).
BEGIN;

CREATE TABLE conversation_counts (
  account_id uuid NOT NULL,
  status text NOT NULL,
  assignee_id uuid,
  n integer NOT NULL
);
CREATE INDEX conversation_counts_account_idx ON conversation_counts (account_id);
ALTER TABLE conversation_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_counts USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
-- Tenants read their counts; only the trigger and the compaction (as the owner) write them.
REVOKE ALL ON conversation_counts FROM hummdesk_app;
GRANT SELECT ON conversation_counts TO hummdesk_app;

-- Runs as the tables' owner: a write to a conversation on any path (a tenant's transaction or the hub's
-- own, e.g. waking snoozed conversations) keeps its counts, always for the conversation's own account.
CREATE FUNCTION hd_count_conversation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.conversation_counts VALUES (NEW.account_id, NEW.status, NEW.assignee_id, 1);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO public.conversation_counts VALUES (OLD.account_id, OLD.status, OLD.assignee_id, -1);
  ELSE
    INSERT INTO public.conversation_counts VALUES (OLD.account_id, OLD.status, OLD.assignee_id, -1), (NEW.account_id, NEW.status, NEW.assignee_id, 1);
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hd_count_conversation() FROM PUBLIC;

CREATE TRIGGER conversations_count_insert_delete AFTER INSERT OR DELETE ON conversations
  FOR EACH ROW EXECUTE FUNCTION hd_count_conversation();
CREATE TRIGGER conversations_count_update AFTER UPDATE OF status, assignee_id, account_id ON conversations
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
                     OR OLD.account_id IS DISTINCT FROM NEW.account_id)
  EXECUTE FUNCTION hd_count_conversation();

-- Folds the calling tenant's rows into one per group (tenant only from hd_account(), as the policies).
-- Safe beside writers and other compactions: it deletes only rows it saw and writes back exactly their
-- sum in the same transaction, so every snapshot sums to the same counts.
CREATE FUNCTION hd_compact_conversation_counts() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH gone AS (
    DELETE FROM public.conversation_counts WHERE account_id = public.hd_account() RETURNING status, assignee_id, n
  )
  INSERT INTO public.conversation_counts (account_id, status, assignee_id, n)
  SELECT public.hd_account(), status, assignee_id, sum(n)::int FROM gone GROUP BY status, assignee_id HAVING sum(n) <> 0
$$;
REVOKE ALL ON FUNCTION hd_compact_conversation_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hd_compact_conversation_counts() TO hummdesk_app;

LOCK TABLE conversations IN SHARE MODE;
INSERT INTO conversation_counts (account_id, status, assignee_id, n)
  SELECT account_id, status, assignee_id, count(*)::int FROM conversations GROUP BY account_id, status, assignee_id;

COMMIT;
