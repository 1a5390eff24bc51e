BEGIN;
DROP TRIGGER IF EXISTS messages_customer_opens ON messages;
DROP FUNCTION IF EXISTS hd_open_on_customer_message();
COMMIT;
