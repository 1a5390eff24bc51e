import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import type { WaWebSessionStore } from '../../connectors/whatsapp/web/port.js';
import type { Database } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';

/**
 * RemoteAuth's store on the hub's database (whatsapp_web_sessions, migration 235): the zipped browser
 * profile of a linked phone, sealed with the hub's secret key, so a channel's session follows its lease
 * to whichever hub holds it. RemoteAuth writes the zip to `{dataPath}/{session}.zip` before `save` and
 * reads it from the `path` it gives `extract`.
 */
export function databaseSessionStore(deps: { db: Database; box: SecretBox }, channel: Pick<ChannelInstallation, 'id' | 'accountId'>, dataPath: string): WaWebSessionStore {
  const run = <T>(fn: Parameters<typeof withAccount<T>>[2]) => withAccount(deps.db, channel.accountId, fn);
  return {
    async sessionExists() {
      const { rows } = await run((tx) => tx.query(`SELECT 1 FROM whatsapp_web_sessions WHERE channel_id = $1`, [channel.id]));
      return rows.length > 0;
    },
    async save({ session }) {
      const zip = await readFile(join(dataPath, `${session}.zip`));
      const sealed = Buffer.from(deps.box.seal({ zip: zip.toString('base64') }), 'utf8');
      await run((tx) =>
        tx.query(
          `INSERT INTO whatsapp_web_sessions (account_id, channel_id, archive) VALUES ($1, $2, $3)
           ON CONFLICT (channel_id) DO UPDATE SET archive = excluded.archive, updated_at = now()`,
          [channel.accountId, channel.id, sealed],
        ),
      );
    },
    async extract({ path }) {
      const { rows } = await run((tx) => tx.query<{ archive: Buffer | Uint8Array }>(`SELECT archive FROM whatsapp_web_sessions WHERE channel_id = $1`, [channel.id]));
      const archive = rows[0]?.archive;
      if (!archive) return;
      const zip = deps.box.open(Buffer.from(archive).toString('utf8')).zip ?? '';
      // RemoteAuth writes nothing before asking: on a hub that never ran this channel (a new lease holder, a lost disk) the folder is not there yet.
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, Buffer.from(zip, 'base64'), { mode: 0o600 });
    },
    async delete() {
      await run((tx) => tx.query(`DELETE FROM whatsapp_web_sessions WHERE channel_id = $1`, [channel.id]));
    },
  };
}
