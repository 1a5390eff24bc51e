BEGIN;
-- Migration 310's search function, as it was.
DROP FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid);
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
COMMIT;
