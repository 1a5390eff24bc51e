BEGIN;
-- Migration 191's search function, as it was.
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
DROP FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid);
DROP TRIGGER conversations_move_search_terms ON conversations;
DROP TRIGGER messages_update_search_terms_delete ON messages;
DROP TRIGGER messages_update_search_terms_edit ON messages;
DROP TRIGGER messages_update_search_terms ON messages;
DROP FUNCTION hd_move_conversation_terms();
DROP FUNCTION hd_drop_conversation_terms();
DROP FUNCTION hd_redo_conversation_terms();
DROP FUNCTION hd_add_conversation_terms();
DROP FUNCTION hd_conversation_terms(uuid);
DROP FUNCTION hd_activity_day(timestamptz);
DROP AGGREGATE hd_tsvector_union(tsvector);
DROP TABLE conversation_search;
CREATE INDEX messages_search_idx ON messages USING gin (search);
COMMIT;
