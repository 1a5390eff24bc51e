import type { Queryable } from '../../storage/database.js';
import { LINK_KEY, type LinkRecord } from '../../connectors/whatsapp/web/session.js';

/** What the API, the admin console and `hummdesk whatsapp-web status` show of a linked phone. */
export interface LinkView extends LinkRecord {
  /** Whether a hub process runs this channel's listener now (its lease has not run out). */
  listening: boolean;
}

/**
 * The stored link state of a whatsapp-web channel, as its listener last wrote it (`qr_required`,
 * `ready`, `disconnected`, `logged_out`). A channel whose listener never ran is `disconnected`; one whose
 * listener's lease ran out (no hub holds it) says so, whatever it last wrote.
 */
export async function readLink(tx: Queryable, channelId: string): Promise<LinkView> {
  const { rows } = await tx.query<{ key: string; value: Record<string, unknown> | null; live: boolean }>(
    `SELECT key, value, (key = 'listener:lease' AND (value->>'expiresAt')::timestamptz > clock_timestamp()) AS live
     FROM channel_checkpoints WHERE channel_id = $1 AND key IN ($2, 'listener:lease')`,
    [channelId, LINK_KEY],
  );
  const listening = rows.some((r) => r.live);
  const stored = rows.find((r) => r.key === LINK_KEY)?.value as LinkRecord | undefined;
  if (!stored) return { state: 'disconnected', code: 'whatsapp_web_not_started', reason: 'no hub has run this channel yet (is a hub running with jobs on?)', updatedAt: new Date(0).toISOString(), listening };
  if (!listening && stored.state !== 'logged_out')
    return { ...stored, state: 'disconnected', code: 'whatsapp_web_not_listening', reason: `no hub runs this channel now (last state: ${stored.state})`, qr: undefined, pairingCode: undefined, listening };
  return { ...stored, listening };
}

/** Whether a hub process holds the channel's listener lease now (it runs the linked phone). */
export async function listenerIsLive(tx: Queryable, channelId: string): Promise<boolean> {
  const { rows } = await tx.query(
    `SELECT 1 FROM channel_checkpoints WHERE channel_id = $1 AND key = 'listener:lease' AND (value->>'expiresAt')::timestamptz > clock_timestamp()`,
    [channelId],
  );
  return rows.length > 0;
}
