BEGIN;
DROP INDEX IF EXISTS users_email_idx;
DROP INDEX IF EXISTS users_account_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
COMMIT;
