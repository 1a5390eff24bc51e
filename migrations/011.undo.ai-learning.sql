BEGIN;
DROP TABLE IF EXISTS ai_category_models;
DROP TABLE IF EXISTS ai_category_examples;
COMMIT;
