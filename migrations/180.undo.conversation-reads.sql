DROP TABLE IF EXISTS conversation_reads;
