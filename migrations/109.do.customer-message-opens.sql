-- A customer writing again after an agent's reply (status pending) makes the conversation open, so it
-- shows in "Open" views again; an auto-reply does not. A trigger rather than a change to
-- hd_ingest_messages (which already reopens resolved and snoozed conversations), so every path that
-- stores a customer's message does it.
BEGIN;

CREATE FUNCTION hd_open_on_customer_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE conversations SET status = 'open', updated_at = now() WHERE id = NEW.conversation_id AND status = 'pending';
  RETURN NULL;
END $$;

CREATE TRIGGER messages_customer_opens AFTER INSERT ON messages FOR EACH ROW
  WHEN (NEW.direction = 'inbound' AND NEW.author_kind = 'contact' AND NOT NEW.auto_reply)
  EXECUTE FUNCTION hd_open_on_customer_message();

COMMIT;
