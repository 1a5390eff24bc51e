import { AuthError, PermanentError, RateLimitError } from '../../connectors/core/errors.js';
import { toConnectorError } from '../../connectors/slack/client.js';
import type { SlackClients } from '../../connectors/slack/client.js';
import { downloadSlackFile, slackFileIdOf, slackFileInfo, type SlackFileInfo } from '../../connectors/slack/files.js';
import type { Database, Queryable } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { RetryLaterError, type JobHandler } from '../queue/jobs.js';
import { listSlackInstallations } from './store.js';
import { displayNameOrNull } from '../../connectors/core/text.js';

export interface SlackFileFetchDeps {
  db: Database;
  box: SecretBox;
  blobs: LocalBlobStore;
  clients: SlackClients;
  /** The job runner's attempts: the last one gives a file up. */
  maxAttempts: number;
  onOutbox?: () => void;
}

interface PendingFile {
  id: string;
  ref: string;
  installationId: string;
  attempts: number;
}

/**
 * Customers' Slack files into the blob store, outside any transaction. A file known only by id (a
 * Slack Connect stub, `file_access: "check_file_info"`) is looked up with files.info first. The first
 * try happens in the surface sync; a failure is recorded on the attachment (state and reason), never
 * swallowed: a transient one hands the file to a `slack.files` job (the job queue's backoff), a
 * permanent one (refused, too large, gone) or the last attempt marks it failed for good.
 * Returns whether a file was fetched (the thread then has something new to show).
 */
export async function fetchSlackFiles(deps: SlackFileFetchDeps, accountId: string, conversationId: string, attempt?: { final: boolean }): Promise<boolean> {
  const retrying = attempt !== undefined;
  const pending = await withAccount(deps.db, accountId, async (tx) => {
    const files = await pendingFiles(tx, conversationId, retrying);
    if (!files.length) return [];
    const installs = await listSlackInstallations(tx, deps.box);
    return files.map((f) => ({ ...f, token: installs.find((i) => i.id === f.installationId)?.secrets.botToken }));
  });
  let fetched = false;
  let again = false;
  let rateLimited: RateLimitError | undefined;
  for (const f of pending) {
    let info: SlackFileInfo | undefined;
    try {
      const fileId = slackFileIdOf(f.ref);
      if (fileId) info = await slackFileInfo(deps.clients.for(f.token), fileId);
      const bytes = await downloadSlackFile({ url: info?.url ?? f.ref, token: f.token, apiUrl: deps.clients.apiUrl });
      const key = await deps.blobs.put(bytes);
      await withAccount(deps.db, accountId, (tx) => fileFetched(tx, f.id, key, bytes.length, info));
      fetched = true;
    } catch (err) {
      const e = toConnectorError(err);
      if (e instanceof RateLimitError) rateLimited = e;
      const givesUp = e instanceof PermanentError || e instanceof AuthError || (attempt?.final ?? false);
      if (!givesUp) again = true;
      await withAccount(deps.db, accountId, (tx) => fileFailed(tx, f.id, givesUp ? 'failed' : 'retrying', e.message));
    }
  }
  if (!retrying && again) {
    // Handed to the job queue: later syncs leave a retrying file alone.
    await withAccount(deps.db, accountId, (tx) => enqueue(tx, accountId, 'slack.files', { conversationId }));
    deps.onOutbox?.();
  }
  if (retrying && fetched) {
    await withAccount(deps.db, accountId, (tx) => enqueue(tx, accountId, 'surface.sync', { conversationId }));
    deps.onOutbox?.();
  }
  if (retrying && again) {
    if (rateLimited) throw new RetryLaterError(rateLimited.message, rateLimited.retryAfterMs);
    throw new Error('a Slack file could not be fetched yet; retried with backoff');
  }
  return fetched;
}

/** The `slack.files` job: tries a conversation's retrying files again, up to the runner's attempts. */
export function slackFilesHandler(deps: SlackFileFetchDeps): JobHandler {
  return async (job) => {
    const conversationId = String(job.payload.conversationId ?? '');
    if (!/^[0-9a-f-]{36}$/.test(conversationId)) return;
    await fetchSlackFiles(deps, job.accountId, conversationId, { final: job.attempt >= deps.maxAttempts });
  };
}

async function pendingFiles(tx: Queryable, conversationId: string, retrying: boolean): Promise<PendingFile[]> {
  return (await tx.query<PendingFile>(
    `SELECT a.id, a.source_ref AS ref, m.channel_id AS "installationId", a.fetch_attempts AS attempts
     FROM attachments a JOIN messages m ON m.id = a.message_id JOIN channels ch ON ch.id = m.channel_id
     WHERE m.conversation_id = $1 AND ch.kind = 'slack' AND a.blob_key IS NULL AND a.source_ref IS NOT NULL
       AND ${retrying ? `a.fetch_state = 'retrying'` : 'a.fetch_state IS NULL'}
     ORDER BY a.created_at, a.id`,
    [conversationId],
  )).rows;
}

async function fileFetched(tx: Queryable, id: string, blobKey: string, size: number, info: SlackFileInfo | undefined): Promise<void> {
  // A stub had no name or type: files.info's fill them in.
  await tx.query(
    `UPDATE attachments SET blob_key = $2, size = $3, fetch_state = 'stored', fetch_error = NULL, fetch_attempts = fetch_attempts + 1,
       name = coalesce(name, $4::text), mime_type = coalesce(mime_type, $5::text),
       kind = CASE WHEN mime_type IS NULL AND $5::text LIKE 'image/%' THEN 'image' WHEN mime_type IS NULL AND $5::text LIKE 'audio/%' THEN 'audio' WHEN mime_type IS NULL AND $5::text LIKE 'video/%' THEN 'video' ELSE kind END
     WHERE id = $1 AND blob_key IS NULL`,
    [id, blobKey, size, displayNameOrNull(info?.name?.slice(0, 255)) ?? null, info?.mimetype ?? null],
  );
}

async function fileFailed(tx: Queryable, id: string, state: 'retrying' | 'failed', reason: string): Promise<void> {
  await tx.query(`UPDATE attachments SET fetch_state = $2, fetch_error = $3, fetch_attempts = fetch_attempts + 1 WHERE id = $1 AND blob_key IS NULL`, [id, state, reason.slice(0, 500)]);
}
