-- A user's email is unique within an account, not across accounts: one tenant can no longer learn or
-- take another's agent emails. Login by email asks for the account only when the password matches
-- users in several (hub/services/auth.ts).
BEGIN;
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_account_email_key ON users (account_id, lower(email));
-- Login reads every account's user with the email, before any tenant is known.
CREATE INDEX users_email_idx ON users (lower(email));
COMMIT;
