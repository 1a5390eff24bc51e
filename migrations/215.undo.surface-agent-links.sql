BEGIN;
DROP TABLE surface_action_claims;
DROP TABLE surface_agent_links;
COMMIT;
