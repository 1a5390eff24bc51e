-- Message search for a tenant that uses messages_search_idx (#16). Under row-level security the planner
-- may not run the text-search operator (ts_match_vq, not LEAKPROOF) before the tenant check, so as the
-- tenant the GIN index is never used and a search read every message of the account. This function runs
-- as the tables' owner and takes the tenant only from hd_account() (the transaction's own tenant, as the
-- policies do), never from an argument: it cannot be asked about another account. It answers the
-- conversations of at most p_cap matching messages, or NULL for a word more common than that (the
-- caller then walks the account's conversations in list order, where such a word shows up at once).
-- A common word is known from the column's statistics before the index is read: the index answers
-- every match of every account at once (a bitmap), ~100 ms for a word in 120,000 messages. VOLATILE only
-- because EXPLAIN is refused in a STABLE function; it writes nothing.
BEGIN;
CREATE FUNCTION hd_search_conversations(p_query text, p_cap integer) RETURNS uuid[]
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
-- The index or nothing: a sequential scan would read every account's messages.
SET search_path = pg_catalog, public SET enable_seqscan = off AS $$
DECLARE
  v_query tsquery := websearch_to_tsquery('simple', p_query);
  v_plan json;
  v_count integer;
  v_ids uuid[];
BEGIN
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM public.messages WHERE search @@ %L::tsquery', v_query::text) INTO v_plan;
  IF (v_plan->0->'Plan'->>'Plan Rows')::float8 > p_cap THEN RETURN NULL; END IF;
  SELECT count(*), coalesce(array_agg(DISTINCT hit.conversation_id), '{}') INTO v_count, v_ids
    FROM (SELECT m.conversation_id FROM public.messages m
           WHERE m.account_id = public.hd_account() AND m.search @@ v_query LIMIT p_cap + 1) hit;
  RETURN CASE WHEN v_count > p_cap THEN NULL ELSE v_ids END;
END $$;
REVOKE ALL ON FUNCTION hd_search_conversations(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hd_search_conversations(text, integer) TO hummdesk_app;
COMMIT;
