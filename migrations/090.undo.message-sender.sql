-- Back to migration 052's ingest functions; the sender column goes.
BEGIN;

DROP FUNCTION hd_ingest_messages_as(uuid, uuid, uuid, jsonb);
DROP FUNCTION hd_ingest_messages(uuid, uuid, uuid, jsonb);

CREATE FUNCTION hd_ingest_messages(p_account uuid, p_channel uuid, p_team uuid, p_rows jsonb)
RETURNS TABLE (ord integer, result text, conversation_id uuid, message_id uuid, conversation_created boolean, reopened boolean)
LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  i integer := 0;
  v_contact uuid;
  v_claimed uuid;
  v_new_contact boolean;
  v_conv uuid;
  v_created boolean;
  v_status text;
  v_msg uuid;
  v_at timestamptz;
  v_surfaces boolean;
BEGIN
  -- Without a surface installed (Slack, Teams) there is nothing to mirror, so no surface job is written.
  v_surfaces := EXISTS (SELECT 1 FROM channels WHERE account_id = p_account AND kind IN ('slack', 'teams') AND enabled);
  FOR r IN SELECT value FROM jsonb_array_elements(p_rows) LOOP
    v_at := (r->>'sentAt')::timestamptz;

    -- Contact identity (channel, external id), created once; only a verified sender joins a contact by email.
    SELECT ci.contact_id INTO v_contact FROM contact_identities ci WHERE ci.channel_id = p_channel AND ci.external_id = r->>'senderId';
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
      RETURNING contact_id INTO v_claimed;
      IF v_claimed IS NULL THEN
        -- A concurrent transaction created this identity first: its contact wins, ours goes.
        IF v_new_contact THEN DELETE FROM contacts WHERE id = v_contact; END IF;
        SELECT ci.contact_id INTO v_contact FROM contact_identities ci WHERE ci.channel_id = p_channel AND ci.external_id = r->>'senderId';
      END IF;
    END IF;

    -- Conversation: the one the hub already chose (thread hints), else the thread key's, opened once.
    IF r->>'conversationId' IS NOT NULL THEN
      UPDATE conversations c SET last_message_at = greatest(c.last_message_at, v_at), updated_at = now()
      WHERE c.id = (r->>'conversationId')::uuid
      RETURNING c.id, false, c.status INTO v_conv, v_created, v_status;
    ELSE
      INSERT INTO conversations AS c (account_id, channel_id, contact_id, thread_key, subject, team_id, last_message_at)
      VALUES (p_account, p_channel, v_contact, r->>'threadKey', r->>'subject', p_team, v_at)
      ON CONFLICT (channel_id, thread_key) DO UPDATE SET last_message_at = greatest(c.last_message_at, EXCLUDED.last_message_at), updated_at = now()
      RETURNING c.id, (c.xmax = 0), c.status INTO v_conv, v_created, v_status;
    END IF;

    -- The message, once per (channel, external id): a redelivery changes nothing.
    INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, html, external_id, in_reply_to, auto_reply, sent_at, metadata)
    VALUES (p_account, v_conv, p_channel, 'inbound', 'contact', coalesce(r->>'text', ''), r->>'html', r->>'externalId', r->>'inReplyTo',
            coalesce((r->>'autoReply')::boolean, false), v_at, coalesce(r->'metadata', '{}'))
    ON CONFLICT (channel_id, external_id) DO NOTHING
    RETURNING id INTO v_msg;

    IF v_msg IS NULL THEN
      ord := i; result := 'duplicate'; conversation_id := v_conv; message_id := NULL; conversation_created := false; reopened := false;
      RETURN NEXT;
    ELSE
      reopened := false;
      -- A customer writing again reopens a resolved or snoozed conversation; an auto-reply does not.
      IF NOT coalesce((r->>'autoReply')::boolean, false) AND v_status IN ('resolved', 'snoozed') THEN
        UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE id = v_conv;
        reopened := true;
      END IF;
      -- Auto-replies are stored but never reach the AI, so they cannot start a mail loop.
      INSERT INTO outbox (account_id, topic, payload)
      SELECT p_account, t.topic, jsonb_build_object('conversationId', v_conv, 'messageId', v_msg)
      FROM (VALUES (1, 'ai.classify'), (2, 'surface.sync')) AS t(n, topic)
      WHERE (t.topic <> 'ai.classify' OR NOT coalesce((r->>'autoReply')::boolean, false))
        AND (t.topic <> 'surface.sync' OR v_surfaces)
      ORDER BY t.n;
      ord := i; result := 'created'; conversation_id := v_conv; message_id := v_msg; conversation_created := v_created;
      RETURN NEXT;
    END IF;
    i := i + 1;
  END LOOP;
END $$;


CREATE FUNCTION hd_ingest_messages_as(p_account uuid, p_channel uuid, p_team uuid, p_rows jsonb)
RETURNS TABLE (ord integer, result text, conversation_id uuid, message_id uuid, conversation_created boolean, reopened boolean)
LANGUAGE plpgsql AS $$
BEGIN
  -- As setAccount in storage/session.ts: the app role (row-level security applies) and the tenant, for this transaction only.
  PERFORM set_config('role', 'hummdesk_app', true), set_config('hummdesk.account_id', p_account::text, true);
  RETURN QUERY SELECT * FROM hd_ingest_messages(p_account, p_channel, p_team, p_rows);
END $$;

DELETE FROM messages WHERE author_kind = 'system' AND metadata->>'notice' = 'participant_joined';
ALTER TABLE messages DROP COLUMN sender_identity_id;

COMMIT;
