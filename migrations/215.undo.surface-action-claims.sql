BEGIN;
DROP TABLE surface_action_claims;
COMMIT;
