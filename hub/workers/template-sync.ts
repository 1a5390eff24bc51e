import type { ChannelKind, Connector } from '../../connectors/core/types.js';
import { AuthError, PermanentError, RateLimitError } from '../../connectors/core/errors.js';
import type { WhatsAppConnector } from '../../connectors/whatsapp/connector.js';
import type { Database } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import { RetryLaterError, UnrecoverableJobError, type Job } from '../queue/jobs.js';
import { syncWhatsAppTemplates } from '../services/whatsapp-templates.js';

/** `whatsapp.templates`: one channel's templates synced again (Meta approved one we did not have). */
export function templateSyncHandler(deps: { db: Database; box: SecretBox; connectors: () => Map<ChannelKind, Connector> }) {
  return async (job: Job): Promise<void> => {
    const channel = await withAccount(deps.db, job.accountId, (tx) => getInstallation(tx, deps.box, String(job.payload.channelId)));
    const wabaId = channel?.config.businessAccountId;
    const connector = deps.connectors().get('whatsapp') as WhatsAppConnector | undefined;
    if (!channel || channel.kind !== 'whatsapp' || typeof wabaId !== 'string' || !connector) return;
    try {
      await syncWhatsAppTemplates(deps.db, connector, channel, wabaId);
    } catch (err) {
      if (err instanceof RateLimitError) throw new RetryLaterError(err.message, err.retryAfterMs);
      if (err instanceof PermanentError || err instanceof AuthError) throw new UnrecoverableJobError(err.message);
      throw err;
    }
  };
}
