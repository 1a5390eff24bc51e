-- Inbox sort by waiting time (#16): how long the customer has waited is the oldest customer message no
-- agent (or the AI's auto-send) answered since, the same rule as the inbox row's `waitingSince`. Kept on
-- the conversation by a trigger on every path that stores a message, so a sorted page is the first rows
-- of one index range instead of a computation over every conversation of the account.
BEGIN;

ALTER TABLE conversations ADD COLUMN waiting_since timestamptz;

CREATE FUNCTION hd_waiting_since(conv uuid) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT min(m.sent_at) FROM messages m
   WHERE m.conversation_id = conv AND m.direction = 'inbound' AND NOT m.is_private AND NOT m.auto_reply
     AND m.sent_at > coalesce((SELECT max(o.sent_at) FROM messages o
                                WHERE o.conversation_id = conv AND o.direction = 'outbound' AND NOT o.is_private
                                  AND o.author_kind IN ('agent', 'ai')), '-infinity')
$$;

CREATE FUNCTION hd_track_waiting() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  current timestamptz;
  since timestamptz;
BEGIN
  SELECT waiting_since INTO current FROM conversations WHERE id = NEW.conversation_id;
  -- The common case: the customer writes again while already waiting; nothing changes.
  IF NEW.direction = 'inbound' AND current IS NOT NULL AND current <= NEW.sent_at THEN RETURN NULL; END IF;
  -- An answer while nothing waits changes nothing either.
  IF NEW.direction = 'outbound' AND current IS NULL THEN RETURN NULL; END IF;
  since := hd_waiting_since(NEW.conversation_id);
  IF since IS DISTINCT FROM current THEN
    UPDATE conversations SET waiting_since = since WHERE id = NEW.conversation_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_track_waiting AFTER INSERT ON messages FOR EACH ROW
  WHEN ((NEW.direction = 'inbound' AND NOT NEW.is_private AND NOT NEW.auto_reply)
     OR (NEW.direction = 'outbound' AND NOT NEW.is_private AND NEW.author_kind IN ('agent', 'ai')))
  EXECUTE FUNCTION hd_track_waiting();

UPDATE conversations c SET waiting_since = hd_waiting_since(c.id)
 WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound');

-- Longest waiting first; conversations with nothing waiting follow, latest activity first.
CREATE INDEX conversations_status_waiting_idx ON conversations
  (account_id, status, (coalesce(waiting_since, 'infinity'::timestamptz)), last_message_at DESC, id DESC);

COMMIT;
