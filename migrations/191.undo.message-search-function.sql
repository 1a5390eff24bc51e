DROP FUNCTION IF EXISTS hd_search_conversations(text, integer);
