-- Inbox rows without reading messages (#16): each conversation keeps its last public message's first line
-- (the row's preview, with its direction and place in the thread) and the time of its customer's latest
-- message (the row's unread mark compares it with the agent's last read). Kept by triggers on messages:
-- an insert moves them forward, an edit or a deletion reads them again. A page of the inbox then costs
-- one index walk and its joins instead of two lookups into messages per row.
BEGIN;

ALTER TABLE conversations
  ADD COLUMN preview text,
  ADD COLUMN preview_direction text,
  ADD COLUMN preview_at timestamptz,
  ADD COLUMN preview_message_id uuid,
  ADD COLUMN customer_at timestamptz;

-- The first line of a message as a row shows it (NULL when there is none).
CREATE FUNCTION hd_preview_line(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT nullif(left(split_part(btrim(body, E' \n\r\t'), E'\n', 1), 200), '')
$$;

-- Both read again from the conversation's messages (after an edit or a deletion, and to fill them in).
CREATE FUNCTION hd_refresh_inbox_row(conv uuid) RETURNS void LANGUAGE sql AS $$
  UPDATE conversations c
     SET preview = hd_preview_line(l.text), preview_direction = l.direction, preview_at = l.sent_at, preview_message_id = l.id, customer_at = i.at
    FROM (SELECT conv AS id) k
    LEFT JOIN LATERAL (
      SELECT m.id, m.text, m.direction, m.sent_at FROM messages m
       WHERE m.conversation_id = k.id AND NOT m.is_private AND m.author_kind <> 'system'
       ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) l ON true
    LEFT JOIN LATERAL (
      SELECT max(m.sent_at) AS at FROM messages m
       WHERE m.conversation_id = k.id AND m.direction = 'inbound' AND NOT m.is_private AND NOT m.auto_reply) i ON true
   WHERE c.id = k.id
     AND (c.preview_message_id IS DISTINCT FROM l.id OR c.preview IS DISTINCT FROM hd_preview_line(l.text)
          OR c.preview_direction IS DISTINCT FROM l.direction OR c.preview_at IS DISTINCT FROM l.sent_at OR c.customer_at IS DISTINCT FROM i.at)
$$;

-- A new message: the preview when it is the latest public one, the customer's time when it is theirs.
CREATE FUNCTION hd_track_inbox_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  customer boolean := NEW.direction = 'inbound' AND NOT NEW.auto_reply;
BEGIN
  IF NEW.author_kind <> 'system' THEN
    UPDATE conversations
       SET preview = hd_preview_line(NEW.text), preview_direction = NEW.direction, preview_at = NEW.sent_at, preview_message_id = NEW.id,
           customer_at = CASE WHEN customer AND (customer_at IS NULL OR customer_at < NEW.sent_at) THEN NEW.sent_at ELSE customer_at END
     WHERE id = NEW.conversation_id AND (preview_at IS NULL OR (preview_at, preview_message_id) < (NEW.sent_at, NEW.id));
    IF FOUND THEN RETURN NULL; END IF;
  END IF;
  IF customer THEN
    UPDATE conversations SET customer_at = NEW.sent_at WHERE id = NEW.conversation_id AND (customer_at IS NULL OR customer_at < NEW.sent_at);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_track_inbox_row AFTER INSERT ON messages FOR EACH ROW
  WHEN (NOT NEW.is_private)
  EXECUTE FUNCTION hd_track_inbox_row();

CREATE FUNCTION hd_redo_inbox_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM hd_refresh_inbox_row(NEW.conversation_id);
  IF OLD.conversation_id IS DISTINCT FROM NEW.conversation_id THEN PERFORM hd_refresh_inbox_row(OLD.conversation_id); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_redo_inbox_row AFTER UPDATE OF text, is_private, author_kind, direction, auto_reply, sent_at, conversation_id ON messages FOR EACH ROW
  WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.is_private IS DISTINCT FROM NEW.is_private OR OLD.author_kind IS DISTINCT FROM NEW.author_kind
        OR OLD.direction IS DISTINCT FROM NEW.direction OR OLD.auto_reply IS DISTINCT FROM NEW.auto_reply OR OLD.sent_at IS DISTINCT FROM NEW.sent_at
        OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id)
  EXECUTE FUNCTION hd_redo_inbox_row();

-- Deleted messages: their conversations that still exist (not the ones deleted with them) read again.
CREATE FUNCTION hd_drop_inbox_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM hd_refresh_inbox_row(c.id) FROM conversations c WHERE c.id IN (SELECT conversation_id FROM gone);
  RETURN NULL;
END $$;

CREATE TRIGGER messages_drop_inbox_row AFTER DELETE ON messages REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION hd_drop_inbox_row();

UPDATE conversations c
   SET preview = hd_preview_line(l.text), preview_direction = l.direction, preview_at = l.sent_at, preview_message_id = l.id, customer_at = i.at
  FROM conversations k
  LEFT JOIN LATERAL (
    SELECT m.id, m.text, m.direction, m.sent_at FROM messages m
     WHERE m.conversation_id = k.id AND NOT m.is_private AND m.author_kind <> 'system'
     ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) l ON true
  LEFT JOIN LATERAL (
    SELECT max(m.sent_at) AS at FROM messages m
     WHERE m.conversation_id = k.id AND m.direction = 'inbound' AND NOT m.is_private AND NOT m.auto_reply) i ON true
 WHERE c.id = k.id AND (l.id IS NOT NULL OR i.at IS NOT NULL);

COMMIT;
