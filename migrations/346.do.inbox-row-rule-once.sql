-- Migration 336 wrote the inbox row's rule (preview when the message is the latest, customer time when a customer
-- wrote later) as five CASE expressions, twice: for a conversation the hub chose and for the thread key's. Now
-- one SQL function holds the rule and both assignments read its row (PostgreSQL CPU per message in the ingest
-- bench unchanged within noise).
BEGIN;

-- The inbox row's columns after a message: its preview when it is the conversation's latest (by time, then id),
-- its time as the customer's when a customer wrote it later than the last (migration 330's rule).
CREATE FUNCTION hd_inbox_row_after(
  was_preview text, was_direction text, was_message_id uuid, was_at timestamptz, was_customer_at timestamptz,
  m_preview text, m_direction text, m_id uuid, m_at timestamptz, m_customer boolean)
RETURNS TABLE (preview text, preview_direction text, preview_message_id uuid, preview_at timestamptz, customer_at timestamptz)
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN latest THEN m_preview ELSE was_preview END, CASE WHEN latest THEN m_direction ELSE was_direction END,
         CASE WHEN latest THEN m_id ELSE was_message_id END, CASE WHEN latest THEN m_at ELSE was_at END,
         CASE WHEN m_customer AND (was_customer_at IS NULL OR was_customer_at < m_at) THEN m_at ELSE was_customer_at END
  FROM (SELECT was_at IS NULL OR (was_at, was_message_id) < (m_at, m_id) AS latest) l
$$;

CREATE OR REPLACE FUNCTION hd_ingest_messages(p_account uuid, p_channel uuid, p_team uuid, p_rows jsonb)
RETURNS TABLE (ord integer, result text, conversation_id uuid, message_id uuid, conversation_created boolean, reopened boolean,
               participant boolean, notice_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  i integer := 0;
  v_identity uuid;
  v_contact uuid;
  v_claimed uuid;
  v_new_contact boolean;
  v_conv uuid;
  v_created boolean;
  v_status text;
  v_conv_contact uuid;
  v_cc jsonb;
  v_participant boolean;
  v_known boolean;
  v_msg uuid;
  v_msg_id uuid;
  v_preview text;
  v_customer boolean;
  v_notice uuid;
  v_at timestamptz;
  v_surfaces boolean;
BEGIN
  -- Without a surface installed (Slack, Teams) there is nothing to mirror, so no surface job is written.
  v_surfaces := EXISTS (SELECT 1 FROM channels WHERE account_id = p_account AND kind IN ('slack', 'teams') AND enabled);
  FOR r IN SELECT value FROM jsonb_array_elements(p_rows) LOOP
    v_at := (r->>'sentAt')::timestamptz;

    -- Contact identity (channel, external id), created once; only a verified sender joins a contact by email.
    SELECT ci.id, ci.contact_id INTO v_identity, v_contact FROM contact_identities ci WHERE ci.channel_id = p_channel AND ci.external_id = r->>'senderId';
    IF NOT FOUND THEN
      v_contact := NULL;
      v_new_contact := false;
      IF (r->>'verified')::boolean AND r->>'email' IS NOT NULL THEN
        SELECT c.id INTO v_contact FROM contacts c WHERE lower(c.email) = lower(r->>'email') ORDER BY c.created_at LIMIT 1;
      END IF;
      IF v_contact IS NULL THEN
        INSERT INTO contacts (account_id, name, email, phone)
        VALUES (p_account, r->>'displayName', CASE WHEN (r->>'verified')::boolean THEN r->>'email' END, r->>'phone')
        RETURNING id INTO v_contact;
        v_new_contact := true;
      END IF;
      INSERT INTO contact_identities (account_id, channel_id, contact_id, external_id, display_name, address, verified)
      VALUES (p_account, p_channel, v_contact, r->>'senderId', r->>'displayName', r->>'address', (r->>'verified')::boolean)
      ON CONFLICT (channel_id, external_id) DO NOTHING
      RETURNING id, contact_id INTO v_identity, v_claimed;
      IF v_claimed IS NULL THEN
        -- A concurrent transaction created this identity first: its contact wins, ours goes.
        IF v_new_contact THEN DELETE FROM contacts WHERE id = v_contact; END IF;
        SELECT ci.id, ci.contact_id INTO v_identity, v_contact FROM contact_identities ci WHERE ci.channel_id = p_channel AND ci.external_id = r->>'senderId';
      END IF;
    END IF;

    -- The inbox row's preview and customer time (migration 330) are written with the conversation, for the
    -- message's id chosen here (hd_inbox_row_after): messages_track_inbox_row then finds nothing to change.
    v_msg_id := gen_random_uuid();
    v_preview := hd_preview_line(coalesce(r->>'text', ''));
    v_customer := NOT coalesce((r->>'autoReply')::boolean, false);

    -- Conversation: the one the hub already chose (thread hints), else the thread key's, opened once.
    IF r->>'conversationId' IS NOT NULL THEN
      UPDATE conversations c SET last_message_at = greatest(c.last_message_at, v_at), updated_at = now(),
             (preview, preview_direction, preview_message_id, preview_at, customer_at) =
               (SELECT * FROM hd_inbox_row_after(c.preview, c.preview_direction, c.preview_message_id, c.preview_at, c.customer_at, v_preview, 'inbound', v_msg_id, v_at, v_customer))
      WHERE c.id = (r->>'conversationId')::uuid
      RETURNING c.id, false, c.status, c.contact_id, c.metadata->'cc' INTO v_conv, v_created, v_status, v_conv_contact, v_cc;
    ELSE
      -- A conversation a customer opens is waiting from their first message (what messages_track_waiting
      -- would find): set here, the trigger sees nothing to change and the row is written once, not twice.
      INSERT INTO conversations AS c (account_id, channel_id, contact_id, thread_key, subject, team_id, last_message_at, waiting_since,
                                      preview, preview_direction, preview_at, preview_message_id, customer_at)
      VALUES (p_account, p_channel, v_contact, r->>'threadKey', r->>'subject', p_team, v_at,
              CASE WHEN v_customer THEN v_at END,
              v_preview, 'inbound', v_at, v_msg_id, CASE WHEN v_customer THEN v_at END)
      ON CONFLICT (channel_id, thread_key) DO UPDATE SET last_message_at = greatest(c.last_message_at, EXCLUDED.last_message_at), updated_at = now(),
             (preview, preview_direction, preview_message_id, preview_at, customer_at) =
               (SELECT * FROM hd_inbox_row_after(c.preview, c.preview_direction, c.preview_message_id, c.preview_at, c.customer_at, v_preview, 'inbound', v_msg_id, v_at, v_customer))
      RETURNING c.id, (c.xmax = 0), c.status, c.contact_id, c.metadata->'cc' INTO v_conv, v_created, v_status, v_conv_contact, v_cc;
    END IF;

    -- A participant is the conversation's contact or an address on its Cc list; only they may widen it.
    v_participant := v_created OR v_contact = v_conv_contact OR (r->>'address' IS NOT NULL AND EXISTS (
      SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(v_cc) = 'array' THEN v_cc ELSE '[]'::jsonb END) e(a) WHERE lower(e.a) = lower(r->>'address')));
    -- Someone else who wrote here before was already announced.
    v_known := v_participant OR EXISTS (SELECT 1 FROM messages m WHERE m.sender_identity_id = v_identity AND m.conversation_id = v_conv);

    -- The message, once per (channel, external id): a redelivery changes nothing.
    INSERT INTO messages (id, account_id, conversation_id, channel_id, direction, author_kind, sender_identity_id, text, html, external_id, in_reply_to, auto_reply, sent_at, metadata)
    VALUES (v_msg_id, p_account, v_conv, p_channel, 'inbound', 'contact', v_identity, coalesce(r->>'text', ''), r->>'html', r->>'externalId', r->>'inReplyTo',
            coalesce((r->>'autoReply')::boolean, false), v_at, coalesce(r->'metadata', '{}'))
    ON CONFLICT (channel_id, external_id) DO NOTHING
    RETURNING id INTO v_msg;

    IF v_msg IS NULL THEN
      -- A conversation opened for a message stored before (in another thread): nothing of it waits.
      IF v_created THEN UPDATE conversations SET waiting_since = NULL WHERE id = v_conv; END IF;
      -- The preview named the message not stored: read again from what the conversation holds.
      PERFORM hd_refresh_inbox_row(v_conv);
      ord := i; result := 'duplicate'; conversation_id := v_conv; message_id := NULL; conversation_created := false; reopened := false;
      participant := v_participant; notice_id := NULL;
      RETURN NEXT;
    ELSE
      reopened := false;
      v_notice := NULL;
      -- A customer writing again reopens a resolved or snoozed conversation; an auto-reply does not.
      IF NOT coalesce((r->>'autoReply')::boolean, false) AND v_status IN ('resolved', 'snoozed') THEN
        UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE id = v_conv;
        reopened := true;
      END IF;
      -- A newcomer: agents see who joined (a note just before their first message) and may add them.
      IF NOT v_known THEN
        INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, sender_identity_id, is_private, text, sent_at, metadata)
        VALUES (p_account, v_conv, p_channel, 'inbound', 'system', v_identity, true,
                coalesce(CASE WHEN r->>'displayName' IS NOT NULL AND r->>'address' IS NOT NULL THEN (r->>'displayName') || ' <' || (r->>'address') || '>' END,
                         r->>'address', r->>'displayName', r->>'senderId') || ' joined this thread',
                v_at - interval '1 microsecond',
                jsonb_build_object('notice', 'participant_joined', 'identityId', v_identity, 'address', r->>'address', 'name', r->>'displayName', 'messageId', v_msg))
        RETURNING id INTO v_notice;
        IF v_surfaces THEN
          INSERT INTO outbox (account_id, topic, payload) VALUES (p_account, 'surface.sync', jsonb_build_object('conversationId', v_conv, 'messageId', v_notice));
        END IF;
      END IF;
      -- Auto-replies are stored but never reach the AI, so they cannot start a mail loop.
      INSERT INTO outbox (account_id, topic, payload)
      SELECT p_account, t.topic, jsonb_build_object('conversationId', v_conv, 'messageId', v_msg)
      FROM (VALUES (1, 'ai.classify'), (2, 'surface.sync')) AS t(n, topic)
      WHERE (t.topic <> 'ai.classify' OR NOT coalesce((r->>'autoReply')::boolean, false))
        AND (t.topic <> 'surface.sync' OR v_surfaces)
      ORDER BY t.n;
      ord := i; result := 'created'; conversation_id := v_conv; message_id := v_msg; conversation_created := v_created;
      participant := v_participant; notice_id := v_notice;
      RETURN NEXT;
    END IF;
    i := i + 1;
  END LOOP;
END $$;

COMMIT;
