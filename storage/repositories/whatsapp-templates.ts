import type { Queryable } from '../database.js';

export interface WhatsAppTemplateRow {
  id: string;
  channelId: string;
  wabaId: string;
  templateId: string;
  name: string;
  language: string;
  category: string | null;
  status: string;
  statusReason: string | null;
  body: string;
  params: number;
  /** The template's components as Graph listed them (HEADER, BODY, FOOTER, BUTTONS). */
  components: unknown[];
  syncedAt: string;
  updatedAt: string;
}

const COLUMNS = `id, channel_id AS "channelId", waba_id AS "wabaId", template_id AS "templateId", name, language, category, status,
  status_reason AS "statusReason", body, params, components, synced_at AS "syncedAt", updated_at AS "updatedAt"`;

/**
 * A channel's templates become what Graph listed as approved: new ones added, changed ones updated,
 * the rest (no longer approved, or deleted at Meta) removed.
 */
export async function replaceTemplates(
  tx: Queryable,
  c: { accountId: string; channelId: string; wabaId: string },
  templates: { id: string; name: string; language: string; category: string | null; body: string; params: number; components: unknown[] }[],
): Promise<number> {
  for (const t of templates)
    await tx.query(
      `INSERT INTO whatsapp_templates (account_id, channel_id, waba_id, template_id, name, language, category, status, body, params, components)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'APPROVED', $8, $9, $10)
       ON CONFLICT (channel_id, name, language) DO UPDATE SET waba_id = EXCLUDED.waba_id, template_id = EXCLUDED.template_id, category = EXCLUDED.category,
         status = 'APPROVED', status_reason = NULL, body = EXCLUDED.body, params = EXCLUDED.params, components = EXCLUDED.components, synced_at = now(), updated_at = now()`,
      [c.accountId, c.channelId, c.wabaId, t.id, t.name, t.language, t.category, t.body, t.params, JSON.stringify(t.components)],
    );
  await tx.query(
    `DELETE FROM whatsapp_templates WHERE channel_id = $1 AND (name, language) NOT IN (SELECT n, l FROM unnest($2::text[], $3::text[]) AS k(n, l))`,
    [c.channelId, templates.map((t) => t.name), templates.map((t) => t.language)],
  );
  return templates.length;
}

export async function listTemplates(tx: Queryable, channelId: string): Promise<WhatsAppTemplateRow[]> {
  return (await tx.query<WhatsAppTemplateRow>(`SELECT ${COLUMNS} FROM whatsapp_templates WHERE channel_id = $1 ORDER BY name, language`, [channelId])).rows;
}

export async function findTemplate(tx: Queryable, channelId: string, name: string, language: string): Promise<WhatsAppTemplateRow | undefined> {
  return (await tx.query<WhatsAppTemplateRow>(`SELECT ${COLUMNS} FROM whatsapp_templates WHERE channel_id = $1 AND name = $2 AND language = $3`, [channelId, name, language])).rows[0];
}

/**
 * Pre-tenant (owner connection), by exact key: Meta's review of a template changed
 * (`message_template_status_update`). Only rows a channel synced with its own token carry this
 * business account's template id, so no tenant can claim another's updates.
 */
export async function applyTemplateStatus(db: Queryable, u: { wabaId: string; templateId: string; status: string; reason: string | null }): Promise<number> {
  const res = await db.query(
    `UPDATE whatsapp_templates SET status = $3, status_reason = $4, updated_at = now() WHERE waba_id = $1 AND template_id = $2`,
    [u.wabaId, u.templateId, u.status, u.reason],
  );
  return res.rowCount ?? 0;
}
