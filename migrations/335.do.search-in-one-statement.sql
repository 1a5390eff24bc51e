-- Message search in one statement (#16). The list called hd_search_conversation_hits (migration 310) and
-- then read the conversations it named in a second round trip; it now calls it in the page's own statement
-- (FROM the function, LEFT JOIN LATERAL the page), so the function hands over what that statement needs
-- instead of what a caller in another round trip needed: the parsed query (the messages' check of an AND or
-- a phrase no longer parses it again), the lexemes' query as a tsquery, and the last candidate's id (the
-- next slice's cursor, which the caller took from the ids array before).
-- Cheaper on every call:
-- - a query of words joined by OR (no other operator in its text) skips the parse of the query's text;
-- - a wider slice of days asks only for the days not yet read (a later day's conversations are all more
--   recent than an earlier day's, so each slice follows the ones before it in list order), and only as many
--   more days as the matches per day so far say are needed, where it took four times the days each time;
-- - the newest conversation before a cursor is found from the cursor on, also in a generic plan.
BEGIN;

DROP FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid);

-- Search for a tenant: the most recent conversations whose lexemes match, from the index: among the last
-- 2 days of activity (up to the newest conversation, or the newest before the cursor), then older days
-- (as many as the matches per day so far call for, at most four times the days read), past 128 days all
-- older ones, until more than p_want are found. Under row-level
-- security the planner may not run the text-search operator (ts_match_vq, not LEAKPROOF) before the tenant
-- check, so the index is read here, as the tables' owner, for the tenant of hd_account() only (the
-- transaction's own tenant, as the policies), never one named by an argument.
-- Answers, in list order (last activity, then id, newest first), at most p_want conversations older than
-- the cursor (p_before_at, p_before_id) when one is given, and whether more follow (`more`; `last_at` and
-- `last_id` the last one's). `ids` is NULL when the list should be walked instead: a word in more than
-- p_cap conversations (known from the column's statistics before the index is read, else by counting at
-- most p_cap + 1), where walking the list finds a page of matches sooner, or a negation. `terms`: the query
-- to ask conversations' lexemes (a phrase as its words), NULL for a negation; `exact`: the lexemes alone
-- decide (a word, or words joined by OR), else the caller checks the messages against `query`.
-- VOLATILE only because EXPLAIN is refused in a STABLE function; it writes nothing.
CREATE FUNCTION hd_search_conversation_hits(p_query text, p_cap integer, p_want integer, p_before_at timestamptz, p_before_id uuid,
  OUT ids uuid[], OUT more boolean, OUT last_at timestamptz, OUT last_id uuid, OUT terms tsquery, OUT exact boolean, OUT query tsquery)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
-- The index or nothing: a sequential scan would read every account's conversations.
-- Matches' conversations by primary key, never a join that reads the account's conversations.
SET search_path = pg_catalog, public SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_text text;
  v_negated boolean;
  v_estimate float8;
  v_plan json;
  v_count integer := 0;
  v_found integer;
  v_slice uuid[];
  v_at timestamptz[];
  v_ats timestamptz[] := '{}';
  v_newest timestamptz;
  v_day bigint;
  v_from integer := 0;
  v_span integer := 2;
  v_window tsquery;
BEGIN
  query := websearch_to_tsquery('simple', p_query);
  more := false;
  ids := '{}';
  exact := true;
  IF numnode(query) = 0 THEN RETURN; END IF;
  v_text := query::text;
  IF v_text !~ '[&!<]' OR v_text ~ '^''(?:[^'']|'''')*''( \| ''(?:[^'']|'''')*'')*$' THEN
    -- Words joined by OR (a quoted lexeme may hold any of the operators' characters).
    terms := query;
  ELSE
    -- The query's text in runs, quoted lexemes and the operators between them; only the operators matter.
    SELECT coalesce(bool_or(r.run[1] NOT LIKE '''%' AND r.run[1] ~ '[&!<]'), false),
           coalesce(bool_or(r.run[1] NOT LIKE '''%' AND r.run[1] ~ '!'), false),
           -- Lexemes carry no positions, so a phrase is asked as its words (AND); the messages decide.
           string_agg(CASE WHEN r.run[1] LIKE '''%' THEN r.run[1] ELSE regexp_replace(r.run[1], '<(-|[0-9]+)>', '&', 'g') END, '' ORDER BY r.n)
      INTO exact, v_negated, v_text
      FROM regexp_matches(v_text, '(''(?:[^'']|'''')*''|[^'']+)', 'g') WITH ORDINALITY r(run, n);
    exact := NOT exact;
    IF v_negated THEN ids := NULL; RETURN; END IF;
    terms := v_text::tsquery;
  END IF;
  -- How common the words are, as the planner estimates them (reading the column's statistics directly costs more).
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM public.conversation_search WHERE search @@ %L::tsquery', terms::text) INTO v_plan;
  v_estimate := (v_plan->0->'Plan'->>'Plan Rows')::float8;
  IF v_estimate > p_cap THEN ids := NULL; RETURN; END IF;
  -- Two statements, so that a generic plan (the list's statement runs them) still starts the walk at the cursor.
  IF p_before_at IS NULL THEN
    SELECT c.last_message_at INTO v_newest FROM public.conversations c
     WHERE c.account_id = public.hd_account() ORDER BY c.last_message_at DESC, c.id DESC LIMIT 1;
  ELSE
    SELECT c.last_message_at INTO v_newest FROM public.conversations c
     WHERE c.account_id = public.hd_account() AND (c.last_message_at, c.id) < (p_before_at, p_before_id)
     ORDER BY c.last_message_at DESC, c.id DESC LIMIT 1;
  END IF;
  IF v_newest IS NULL THEN RETURN; END IF;
  v_day := floor(extract(epoch FROM v_newest) / 86400)::bigint;
  -- A word in few conversations is read whole at once.
  IF v_estimate <= 4 * p_want THEN v_span := 1000; END IF;
  LOOP
    -- The days from v_from before the newest's day (0: that day) to v_span - 1 before it; past 128 days, every older day.
    -- A day's conversations are all more recent than an earlier day's: each slice follows the ones before it in list order.
    v_window := CASE WHEN v_span <= 128 THEN terms && (SELECT string_agg(quote_literal('~' || d), ' | ')::tsquery FROM generate_series(v_day - v_span + 1, v_day - v_from) d)
                     WHEN v_from = 0 THEN terms
                     ELSE terms && !! (SELECT string_agg(quote_literal('~' || d), ' | ')::tsquery FROM generate_series(v_day - v_from + 1, v_day) d) END;
    SELECT count(*), array_agg(hit.id ORDER BY hit.at DESC, hit.id DESC), array_agg(hit.at ORDER BY hit.at DESC, hit.id DESC)
      INTO v_found, v_slice, v_at
      FROM (SELECT c.id, c.last_message_at AS at
              FROM public.conversation_search s JOIN public.conversations c ON c.id = s.conversation_id
             WHERE s.account_id = public.hd_account() AND c.account_id = s.account_id
               AND s.search @@ v_window
               AND (p_before_at IS NULL OR (c.last_message_at, c.id) < (p_before_at, p_before_id))
             LIMIT p_cap + 1 - v_count) hit;
    v_count := v_count + v_found;
    ids := ids || v_slice;
    v_ats := v_ats || v_at;
    EXIT WHEN v_count > p_want OR v_span > 128;
    v_from := v_span;
    -- As many older days as the matches per day so far say hold the rest, and a quarter more (the days read
    -- four times over at most, and all of them again when none matched yet).
    v_span := CASE WHEN v_count = 0 THEN v_span * 4
                   ELSE least(v_span * 4, v_span + greatest(1, ceil((p_want + 1 - v_count) * 1.25 * v_span / v_count)::integer)) END;
  END LOOP;
  IF v_count > p_cap THEN ids := NULL; RETURN; END IF;
  more := v_count > p_want;
  ids := ids[1:p_want];
  last_id := ids[cardinality(ids)];
  last_at := v_ats[cardinality(ids)];
END $$;
REVOKE ALL ON FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hd_search_conversation_hits(text, integer, integer, timestamptz, uuid) TO hummdesk_app;

COMMIT;
