import type { ChannelInstallation } from '../../connectors/core/types.js';
import type { WhatsAppConnector } from '../../connectors/whatsapp/connector.js';
import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { replaceTemplates } from '../../storage/repositories/whatsapp-templates.js';

/**
 * Reads a number's approved templates from its business account and stores them; the account id is
 * kept on the channel once its token could read it (that read is the proof it may).
 */
export async function syncWhatsAppTemplates(db: Database, connector: WhatsAppConnector, channel: ChannelInstallation, wabaId: string): Promise<number> {
  const templates = await connector.templates(channel, wabaId);
  return withAccount(db, channel.accountId, async (tx) => {
    const synced = await replaceTemplates(tx, { accountId: channel.accountId, channelId: channel.id, wabaId }, templates);
    if (channel.config.businessAccountId !== wabaId)
      await tx.query(`UPDATE channels SET config = config || jsonb_build_object('businessAccountId', $2::text) WHERE id = $1`, [channel.id, wabaId]);
    return synced;
  });
}

/**
 * Pre-tenant (owner connection), by exact key: a template Meta approved that no channel has stored yet
 * is fetched by a sync of each channel on that business account (`whatsapp.templates`), with that
 * channel's own token, so a channel naming an account it cannot read learns nothing.
 */
export async function queueTemplateSyncs(db: Queryable, wabaId: string): Promise<number> {
  const { rows } = await db.query<{ id: string; accountId: string }>(
    `SELECT id, account_id AS "accountId" FROM channels WHERE kind = 'whatsapp' AND config->>'businessAccountId' = $1`,
    [wabaId],
  );
  for (const r of rows) await enqueue(db, r.accountId, 'whatsapp.templates', { channelId: r.id });
  return rows.length;
}
