import type { Queryable } from '../database.js';

/** Who owns a conversation's thread on the platform (Messenger handover protocol): `conversations.metadata.control`. */
export interface ThreadControl {
  owner: 'us' | 'other';
  appId: string | null;
  /** The app that had the thread before: where it goes back when the conversation is resolved. */
  previousAppId: string | null;
  at: string;
}

/**
 * Records a control change on the conversation of `threadKey`; webhooks can arrive out of order, so an
 * older change never overwrites a newer one. Returns the conversation, or nothing when there is none.
 */
export async function setThreadControl(tx: Queryable, channelId: string, c: ThreadControl & { threadKey: string }): Promise<string | undefined> {
  const control: ThreadControl = { owner: c.owner, appId: c.appId, previousAppId: c.previousAppId, at: c.at };
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE conversations SET metadata = jsonb_set(metadata, '{control}', $3::jsonb), updated_at = now()
     WHERE channel_id = $1 AND thread_key = $2
       AND (metadata->'control'->>'at' IS NULL OR (metadata->'control'->>'at')::timestamptz <= $4::timestamptz)
     RETURNING id`,
    [channelId, c.threadKey, JSON.stringify(control), c.at],
  );
  if (rows[0]) return rows[0].id;
  // Known but newer already: still that conversation's event, nothing to change.
  return (await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2`, [channelId, c.threadKey])).rows[0]?.id;
}

export async function threadControl(tx: Queryable, conversationId: string): Promise<ThreadControl | undefined> {
  const { rows } = await tx.query<{ control: ThreadControl | null }>(`SELECT metadata->'control' AS control FROM conversations WHERE id = $1`, [conversationId]);
  return rows[0]?.control ?? undefined;
}
