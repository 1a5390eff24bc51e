import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { insertUser } from '../../storage/repositories/users.js';
import { insertChannel } from '../../storage/repositories/channels.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { createApiKey, hashPassword } from './auth.js';

export interface DemoCredentials {
  url: string;
  email: string;
  password: string;
  apiKey: string;
  webchatChannelId: string;
}

export const DEMO_SLUG = 'demo';
export const DEMO_WIDGET_KEY = 'demo-widget';

/**
 * A demo account with an owner, a team, a web chat widget and an API key. Passwords and keys are
 * stored hashed, so the plain values are kept in the data folder (mode 600) to show on each start.
 */
export async function seedDemo(db: Database, box: SecretBox, dataDir: string, url: string): Promise<{ created: boolean; accountId: string; credentials: DemoCredentials | undefined }> {
  const file = join(dataDir, 'demo-credentials.json');
  const existing = await db.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = $1`, [DEMO_SLUG]);
  if (existing.rows[0]) {
    const credentials = existsSync(file) ? ({ ...JSON.parse(readFileSync(file, 'utf8')), url } as DemoCredentials) : undefined;
    return { created: false, accountId: existing.rows[0].id, credentials };
  }
  // The account row is created as the owner role: no tenant exists yet to act as.
  const accountId = (await db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ('Demo Support', $1) RETURNING id`, [DEMO_SLUG])).rows[0]!.id;
  const password = randomBytes(9).toString('base64url');
  const email = 'demo@hummdesk.local';
  const passwordHash = await hashPassword(password);
  const webchatChannelId = await withAccount(db, accountId, async (tx) => {
    await insertUser(tx, { accountId, email, name: 'Demo Agent', role: 'owner', passwordHash });
    const team = await tx.query<{ id: string }>(`INSERT INTO teams (account_id, name) VALUES ($1, 'Support') RETURNING id`, [accountId]);
    const channel = await insertChannel(tx, box, {
      accountId, kind: 'webchat', name: 'Website chat', externalKey: DEMO_WIDGET_KEY, teamId: team.rows[0]!.id,
      config: { allowedOrigins: ['*'], greeting: 'Hi! How can we help?' },
      secrets: { identitySecret: randomBytes(32).toString('hex'), sessionSecret: randomBytes(32).toString('hex') },
    });
    return channel.id;
  });
  const { key } = await createApiKey(db, accountId, { name: 'demo', role: 'admin' }, { kind: 'system', id: null });
  const credentials = { url, email, password, apiKey: key, webchatChannelId };
  writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return { created: true, accountId, credentials };
}
