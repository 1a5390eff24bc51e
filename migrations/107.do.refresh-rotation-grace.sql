-- Refresh tokens: when a token was spent by rotation (not revoked). Within a short grace window the
-- same token presented again (parallel refreshes of one session) answers the same successor, which
-- the hub derives from the token itself (hub/services/auth.ts), instead of counting as theft.
BEGIN;
ALTER TABLE refresh_tokens ADD COLUMN rotated_at timestamptz;
COMMIT;
