BEGIN;
DROP TABLE IF EXISTS ai_sentiment_models;
DROP TABLE IF EXISTS ai_sentiment_examples;
COMMIT;
