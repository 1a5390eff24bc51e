import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Hub } from './context.js';
import hubPlugin from './plugins/hub.js';
import errors, { frameworkError, routeNotFound } from './plugins/errors.js';
import input from './plugins/input.js';
import { buildValidator } from './plugins/validation.js';
import auth from './plugins/auth.js';
import rateLimit from './plugins/rate-limit.js';
import docs from './plugins/docs.js';
import apiCors from './plugins/cors.js';
import health from './routes/health.js';
import authRoutes from './routes/auth.js';
import conversations from './routes/conversations.js';
import kb from './routes/kb.js';
import aiRoutes from './routes/ai.js';
import translateRoutes from './routes/translate.js';
import aiSettings from './routes/ai-settings.js';
import conversationUploads from './routes/conversation-uploads.js';
import jobs from './routes/jobs.js';
import contacts from './routes/contacts.js';
import teams from './routes/teams.js';
import users from './routes/users.js';
import channels from './routes/channels.js';
import channelChecks from './routes/channel-checks.js';
import invites from './routes/invites.js';
import auditRoutes from './routes/audit.js';
import events from './routes/events.js';
import webhooks from './routes/webhooks.js';
import teamsWebhook from './routes/teams-webhook.js';
import slackRoutes from './routes/slack-oauth.js';
import slackAdmin from './routes/slack-admin.js';
import msteamsAdmin from './routes/msteams-admin.js';
import webchat from './routes/webchat.js';
import demoPage from './routes/demo-page.js';
import files from './routes/files.js';
import embeds from './routes/embeds.js';
import embedTokens from './routes/embed-tokens.js';
import conversationTyping from './routes/conversation-typing.js';
import reports from './routes/reports.js';
import whatsappTemplates from './routes/whatsapp-templates.js';

/** Builds the HTTP app around a hub; it never listens (server.ts does), so tests use inject(). */
export async function buildApp(hub: Hub): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: hub.log as FastifyBaseLogger,
    bodyLimit: hub.config.bodyLimit,
    trustProxy: process.env.HUMMDESK_TRUST_PROXY === 'true',
    ajv: { customOptions: { removeAdditional: false, useDefaults: true } },
    // Types coerced in the URL and headers only, never in a JSON body.
    schemaController: { compilersFactory: { buildValidator } },
    frameworkErrors: frameworkError,
    logController: new LogController({ disableRequestLogging: process.env.HUMMDESK_REQUEST_LOG !== 'true' }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(hubPlugin, { hub });
  await app.register(errors);
  await app.register(input);
  await app.register(auth);
  // Per verified user or API key, else per address (hub/plugins/rate-limit.ts).
  await app.register(rateLimit);
  await app.register(docs);
  await app.register(health);
  await app.register(webhooks, { prefix: '/webhooks' });
  // The Teams bot's messaging endpoint: always there, authenticated before any lookup.
  await app.register(teamsWebhook);
  await app.register(slackRoutes);
  await app.register(webchat, { prefix: '/webchat' });
  await app.register(demoPage);
  await app.register(files);
  await app.register(embeds);
  await app.register(
    async (api) => {
      await api.register(apiCors, { origins: hub.config.apiOrigins });
      // The root's not-found handler runs outside this scope, without the CORS header: a page would see a network error, not the 404.
      api.setNotFoundHandler(routeNotFound);
      await api.register(authRoutes);
      await api.register(conversations);
      await api.register(conversationUploads);
      await api.register(jobs);
      for (const routes of [contacts, teams, users, invites, channels, channelChecks, auditRoutes]) await api.register(routes);
      await api.register(kb);
      await api.register(aiRoutes);
      await api.register(translateRoutes);
      await api.register(aiSettings);
      await api.register(events, { heartbeatMs: hub.config.eventsHeartbeatMs });
      await api.register(embedTokens);
      await api.register(conversationTyping);
      await api.register(slackAdmin);
      await api.register(msteamsAdmin);
      await api.register(reports);
      await api.register(whatsappTemplates);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
