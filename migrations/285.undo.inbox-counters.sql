BEGIN;
DROP TRIGGER conversations_count_update ON conversations;
DROP TRIGGER conversations_count_insert_delete ON conversations;
DROP FUNCTION hd_compact_conversation_counts();
DROP FUNCTION hd_count_conversation();
DROP TABLE conversation_counts;
COMMIT;
