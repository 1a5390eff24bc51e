import type { Hub } from './context.js';
import { SlackApp, type SlackAppOptions } from './slack/app.js';
import { withAccount } from '../storage/session.js';
import { enqueue } from '../storage/repositories/outbox.js';
import { slackBackfillHandler } from './slack/backfill.js';
import { slackFilesHandler } from './slack/file-fetch.js';

const apps = new WeakMap<Hub, SlackApp>();

/** The Slack app of a hub, once installSlack ran. */
export function slackOf(hub: Hub): SlackApp | undefined {
  return apps.get(hub);
}

export function slackOptionsFromEnv(env: Record<string, string | undefined> = process.env): SlackAppOptions {
  return {
    slackApiUrl: env.SLACK_API_URL || undefined,
    clientId: env.SLACK_CLIENT_ID || undefined,
    clientSecret: env.SLACK_CLIENT_SECRET || undefined,
    signingSecret: env.SLACK_SIGNING_SECRET || undefined,
    appToken: env.SLACK_APP_TOKEN || undefined,
  };
}

/**
 * Installs Slack in both roles: the customer channel connector and the agent surface. Call it
 * before buildApp (its routes are registered there) and before startJobs (it wraps the delivery job).
 */
export function installSlack(hub: Hub, options: SlackAppOptions = slackOptionsFromEnv()): SlackApp {
  const existing = apps.get(hub);
  if (existing) return existing;
  const app = new SlackApp(hub, options);
  apps.set(hub, app);
  hub.connectors.set('slack', app.connector);
  hub.surfaces.push(app.surface);
  // app_rate_limited: the missed minute read back; customers' files that failed once, retried with backoff.
  hub.handlers['slack.backfill'] = slackBackfillHandler({ db: hub.db, clients: app.clients, installation: (id) => hub.installations.find({ kind: 'slack', id }), handleEvent: (i, e) => app.handleEvent(i, e) });
  hub.handlers['slack.files'] = slackFilesHandler({ db: hub.db, box: hub.box, blobs: hub.blobs, clients: app.clients, maxAttempts: hub.config.jobAttempts, onOutbox: () => hub.runner.kick() });
  // A delivery outcome (sent, failed, unknown) is confirmed in the conversation's Slack thread.
  const deliver = hub.handlers.deliver;
  if (deliver)
    hub.handlers.deliver = async (job) => {
      try {
        await deliver(job);
      } finally {
        const messageId = String(job.payload.messageId);
        await withAccount(hub.db, job.accountId, async (tx) => {
          const row = (await tx.query<{ conversationId: string }>(`SELECT conversation_id AS "conversationId" FROM messages WHERE id = $1`, [messageId])).rows[0];
          if (row) await enqueue(tx, job.accountId, 'surface.sync', { conversationId: row.conversationId, messageId });
        }).then(() => hub.runner.kick(), (err: unknown) => hub.log.error({ err, messageId }, 'could not queue the Slack delivery confirmation'));
      }
    };
  return app;
}
