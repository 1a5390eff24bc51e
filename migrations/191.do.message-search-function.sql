-- Message search for a tenant that uses messages_search_idx (#16). Under row-level security the planner
-- may not run the text-search operator (ts_match_vq, not LEAKPROOF) before the tenant check, so as the
-- tenant the GIN index is never used and a search read every message of the account. This function runs
-- as the tables' owner and takes the tenant only from hd_account() (the transaction's own tenant, as the
-- policies do), never from an argument: it cannot be asked about another account. It reads at most
-- p_cap + 1 matching messages and answers their conversations, or NULL when more match (the caller
-- then walks the account's conversations in list order instead, where a common word is found at once).
BEGIN;
CREATE FUNCTION hd_search_conversations(p_query text, p_cap integer) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT CASE WHEN count(*) > p_cap THEN NULL ELSE coalesce(array_agg(DISTINCT hit.conversation_id), '{}') END
  FROM (SELECT m.conversation_id FROM public.messages m
         WHERE m.account_id = public.hd_account() AND m.search @@ websearch_to_tsquery('simple', p_query)
         LIMIT p_cap + 1) hit
$$;
REVOKE ALL ON FUNCTION hd_search_conversations(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hd_search_conversations(text, integer) TO hummdesk_app;
COMMIT;
