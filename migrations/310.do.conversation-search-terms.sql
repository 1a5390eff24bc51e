-- Message search with a bounded candidate set (#16). hd_search_conversations (migration 191) fetched every
-- matching message's row to learn its conversation, and the list then read every one of those
-- conversations: a word in 2,000 messages cost ~30 ms of database CPU a request. Each conversation now
-- keeps the lexemes of all its messages (a stripped tsvector, GIN-indexed) in conversation_search, with one
-- more lexeme for the day of its last activity ('~' and the day's number, which no text can produce), kept
-- by triggers on every path that writes a message or moves a conversation. Search asks the index for a
-- word's matches among the last few days of activity first (the index intersects the word and the days
-- before any row is read), then more days, so a word reads about a page of rows however common it is.
-- A conversation matches a query when one of its messages does. The union of its messages' lexemes answers
-- that exactly for a word or words joined by OR; for AND and phrases it is a candidate filter and the
-- caller checks the messages themselves; a negation cannot use it at all (the word may be in another message).
BEGIN;

CREATE TABLE conversation_search (
  conversation_id uuid PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  account_id uuid NOT NULL,
  search tsvector NOT NULL
);
ALTER TABLE conversation_search ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_search USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
-- Tenants read their rows; only the triggers (as the owner) write them.
REVOKE ALL ON conversation_search FROM hummdesk_app;
GRANT SELECT ON conversation_search TO hummdesk_app;

-- The union of tsvectors (positions are stripped before, so it is a merge of two sorted lexeme lists).
CREATE AGGREGATE hd_tsvector_union(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');

-- The lexeme of a day of activity.
CREATE FUNCTION hd_activity_day(at timestamptz) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_to_tsvector(ARRAY['~' || floor(extract(epoch FROM at) / 86400)::bigint])
$$;

-- A conversation's lexemes, computed from its messages and its last activity (edits, deletions).
CREATE FUNCTION hd_conversation_terms(conv uuid) RETURNS tsvector LANGUAGE sql STABLE
SET search_path = pg_catalog, public AS $$
  SELECT coalesce((SELECT public.hd_tsvector_union(strip(m.search)) FROM public.messages m WHERE m.conversation_id = conv), '')
         || public.hd_activity_day(c.last_message_at)
    FROM public.conversations c WHERE c.id = conv
$$;

-- Runs as the tables' owner on every path that writes a message (a tenant's transaction or the hub's own),
-- always for the message's own conversation and account. The conversation's row is locked first (the ingest
-- path has it locked already), so two writers of one conversation cannot wait for each other crosswise.
CREATE FUNCTION hd_add_conversation_terms() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  v_at timestamptz;
BEGIN
  SELECT last_message_at INTO v_at FROM public.conversations WHERE id = NEW.conversation_id FOR NO KEY UPDATE;
  INSERT INTO public.conversation_search AS s (conversation_id, account_id, search)
  VALUES (NEW.conversation_id, NEW.account_id, strip(NEW.search) || public.hd_activity_day(v_at))
  ON CONFLICT (conversation_id) DO UPDATE SET search = s.search || EXCLUDED.search
    -- A message whose words the conversation already holds writes nothing.
    WHERE length(s.search || EXCLUDED.search) > length(s.search);
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hd_add_conversation_terms() FROM PUBLIC;

-- An edited or deleted (emptied) message: its conversations' lexemes computed again, so none stays behind.
CREATE FUNCTION hd_redo_conversation_terms() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  PERFORM 1 FROM public.conversations WHERE id IN (OLD.conversation_id, NEW.conversation_id) ORDER BY id FOR NO KEY UPDATE;
  UPDATE public.conversation_search SET search = coalesce(public.hd_conversation_terms(conversation_id), '')
   WHERE conversation_id IN (OLD.conversation_id, NEW.conversation_id);
  INSERT INTO public.conversation_search (conversation_id, account_id, search)
  SELECT c.id, c.account_id, public.hd_conversation_terms(c.id) FROM public.conversations c WHERE c.id = NEW.conversation_id
  ON CONFLICT (conversation_id) DO NOTHING;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hd_redo_conversation_terms() FROM PUBLIC;

CREATE FUNCTION hd_drop_conversation_terms() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  UPDATE public.conversation_search s SET search = coalesce(public.hd_conversation_terms(s.conversation_id), '')
   WHERE s.conversation_id IN (SELECT DISTINCT gone.conversation_id FROM gone);
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hd_drop_conversation_terms() FROM PUBLIC;

-- A conversation's last activity moved to another day (a message, or any other writer): its day's lexeme follows.
CREATE FUNCTION hd_move_conversation_terms() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  UPDATE public.conversation_search
     SET search = ts_delete(search, tsvector_to_array(public.hd_activity_day(OLD.last_message_at))) || public.hd_activity_day(NEW.last_message_at)
   WHERE conversation_id = NEW.id;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hd_move_conversation_terms() FROM PUBLIC;

-- Named to fire after the other AFTER INSERT triggers on messages (alphabetical), which update the conversation.
CREATE TRIGGER messages_update_search_terms AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION hd_add_conversation_terms();
CREATE TRIGGER messages_update_search_terms_edit AFTER UPDATE OF text, conversation_id ON messages
  FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id)
  EXECUTE FUNCTION hd_redo_conversation_terms();
CREATE TRIGGER messages_update_search_terms_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION hd_drop_conversation_terms();
CREATE TRIGGER conversations_move_search_terms AFTER UPDATE OF last_message_at ON conversations
  FOR EACH ROW WHEN (hd_activity_day(OLD.last_message_at) <> hd_activity_day(NEW.last_message_at))
  EXECUTE FUNCTION hd_move_conversation_terms();

-- Backfill: one pass over the messages (19–36 s for 500,000 messages on a loaded 2-core machine), with
-- writers of messages and conversations held off meanwhile so none is missed; the index is built once, after it.
LOCK TABLE messages, conversations IN SHARE MODE;
INSERT INTO conversation_search (conversation_id, account_id, search)
  SELECT c.id, c.account_id, t.search || hd_activity_day(c.last_message_at)
    FROM (SELECT m.conversation_id, hd_tsvector_union(strip(m.search)) AS search FROM messages m GROUP BY m.conversation_id) t
    JOIN conversations c ON c.id = t.conversation_id;
-- Every search reads the index's whole pending list (entries not yet merged into it): with the default
-- 4 MB a medium word cost 82 ms of CPU after a few thousand messages; kept small, merges come often and small.
CREATE INDEX conversation_search_idx ON conversation_search USING gin (search) WITH (gin_pending_list_limit = 64);
-- Search no longer reads the messages' text index (their conversations' rows answer it, and the check of
-- one message goes by conversation): every stored message no longer pays its entries.
DROP INDEX messages_search_idx;
-- The search function asks the column's statistics how common a word is: give it some from the start.
ANALYZE conversation_search;

-- Search for a tenant: the most recent conversations whose lexemes match, from the index: among the last
-- 2 days of activity (up to the newest conversation, or the newest before the cursor), then 8, 32 and 128,
-- then all, until more than p_want are found. Under row-level
-- security the planner may not run the text-search operator (ts_match_vq, not LEAKPROOF) before the tenant
-- check, so the index is read here, as the tables' owner, for the tenant of hd_account() only (the
-- transaction's own tenant, as the policies), never one named by an argument.
-- Answers, in list order (last activity, then id, newest first), at most p_want conversations older than
-- the cursor (p_before_at, p_before_id) when one is given, and whether more follow (`more`; `last_at` the
-- last one's activity). `ids` is NULL when the list should be walked instead: a word in more than p_cap
-- conversations (known from the column's statistics before the index is read, else by counting at most
-- p_cap + 1), where walking the list finds a page of matches sooner, or a negation. `terms`: the query to
-- ask conversations' lexemes (a phrase as its words), NULL for a negation; `exact`: the lexemes alone
-- decide (a word, or words joined by OR), else the caller checks the messages.
-- VOLATILE only because EXPLAIN is refused in a STABLE function; it writes nothing.
CREATE FUNCTION hd_search_conversation_hits(p_query text, p_cap integer, p_want integer, p_before_at timestamptz, p_before_id uuid,
  OUT ids uuid[], OUT more boolean, OUT last_at timestamptz, OUT terms text, OUT exact boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
-- The index or nothing: a sequential scan would read every account's conversations.
-- Matches' conversations by primary key, never a join that reads the account's conversations.
SET search_path = pg_catalog, public SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_query tsquery := websearch_to_tsquery('simple', p_query);
  v_negated boolean;
  v_terms tsquery;
  v_plan json;
  v_count integer;
  v_at timestamptz[];
  v_newest timestamptz;
  v_day bigint;
  v_span integer := 2;
  v_window tsquery;
BEGIN
  more := false;
  IF numnode(v_query) = 0 THEN ids := '{}'; exact := true; RETURN; END IF;
  -- The query's text in runs, quoted lexemes and the operators between them; only the operators matter.
  SELECT coalesce(bool_or(r.run[1] NOT LIKE '''%' AND r.run[1] ~ '[&!<]'), false),
         coalesce(bool_or(r.run[1] NOT LIKE '''%' AND r.run[1] ~ '!'), false),
         -- Lexemes carry no positions, so a phrase is asked as its words (AND); the messages decide.
         string_agg(CASE WHEN r.run[1] LIKE '''%' THEN r.run[1] ELSE regexp_replace(r.run[1], '<(-|[0-9]+)>', '&', 'g') END, '' ORDER BY r.n)
    INTO exact, v_negated, terms
    FROM regexp_matches(v_query::text, '(''(?:[^'']|'''')*''|[^'']+)', 'g') WITH ORDINALITY r(run, n);
  exact := NOT exact;
  IF v_negated THEN terms := NULL; RETURN; END IF;
  v_terms := terms::tsquery;
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM public.conversation_search WHERE search @@ %L::tsquery', terms) INTO v_plan;
  IF (v_plan->0->'Plan'->>'Plan Rows')::float8 > p_cap THEN RETURN; END IF;
  SELECT c.last_message_at INTO v_newest FROM public.conversations c
   WHERE c.account_id = public.hd_account() AND (p_before_at IS NULL OR (c.last_message_at, c.id) < (p_before_at, p_before_id))
   ORDER BY c.last_message_at DESC, c.id DESC LIMIT 1;
  IF v_newest IS NULL THEN ids := '{}'; RETURN; END IF;
  v_day := floor(extract(epoch FROM v_newest) / 86400)::bigint;
  -- A word in few conversations is read whole at once.
  IF (v_plan->0->'Plan'->>'Plan Rows')::float8 <= 4 * p_want THEN v_span := 1000; END IF;
  LOOP
    v_window := CASE WHEN v_span > 128 THEN v_terms ELSE v_terms && (
                  SELECT string_agg(quote_literal('~' || d), ' | ')::tsquery FROM generate_series(v_day - v_span + 1, v_day) d) END;
    SELECT count(*), array_agg(hit.id ORDER BY hit.at DESC, hit.id DESC), array_agg(hit.at ORDER BY hit.at DESC, hit.id DESC)
      INTO v_count, ids, v_at
      FROM (SELECT c.id, c.last_message_at AS at
              FROM public.conversation_search s JOIN public.conversations c ON c.id = s.conversation_id
             WHERE s.account_id = public.hd_account() AND c.account_id = s.account_id
               AND s.search @@ v_window
               AND (p_before_at IS NULL OR (c.last_message_at, c.id) < (p_before_at, p_before_id))
             LIMIT p_cap + 1) hit;
    EXIT WHEN v_count > p_want OR v_span > 128;
    v_span := v_span * 4;
  END LOOP;
  IF v_count > p_cap THEN ids := NULL; RETURN; END IF;
  more := v_count > p_want;
  last_at := v_at[least(v_count, p_want)];
  ids := coalesce(ids[1:p_want], '{}');
END $$;
REVOKE ALL ON FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid) TO hummdesk_app;

DROP FUNCTION hd_search_conversations(text, integer);

COMMIT;
