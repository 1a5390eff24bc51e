BEGIN;
DROP TABLE IF EXISTS whatsapp_web_sessions;
DELETE FROM channels WHERE kind = 'whatsapp-web';
ALTER TABLE channels DROP CONSTRAINT channels_kind_check;
ALTER TABLE channels ADD CONSTRAINT channels_kind_check CHECK (kind IN ('email', 'whatsapp', 'messenger', 'slack', 'teams', 'webchat'));
COMMIT;
