import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { deriveKey } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { insertChannel, updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import { BOT_SCOPES } from '../slack/app.js';
import { toConnectorError } from '../../connectors/slack/client.js';
import { isUniqueViolation } from '../../storage/unique-violation.js';
import { HubError } from '../errors.js';
import { releaseStaleSlackTeam } from '../slack/team-binding.js';
import { slackOf } from '../install-slack.js';

const STATE_TTL_SECONDS = 10 * 60;

/**
 * Slack's HTTP side: the one Request URL (`POST /webhooks/slack`, which takes precedence over the
 * generic `/webhooks/:kind` so interactivity and commands reach the agent desk) and the OAuth v2
 * install flow under /slack/oauth/…. Registered only when the hub has Slack installed.
 */
const slackRoutes: FastifyPluginAsync = async (app) => {
  const slack = slackOf(app.hub);
  if (!slack) return;
  const { hub } = app;
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: hub.config.bodyLimit }, (_req, body, done) => done(null, body));
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: hub.config.bodyLimit }, (_req, body, done) => done(null, body));

  app.post('/webhooks/slack', { schema: { tags: ['webhooks'], hide: true } }, async (req, reply) => {
    const answer = await slack.handle({
      method: req.method,
      path: '/webhooks/slack',
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
      query: req.query as Record<string, string | undefined>,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    });
    reply.status(answer.status);
    if (answer.contentType) reply.type(answer.contentType);
    return reply.send(answer.body);
  });

  const stateKey = deriveKey(hub.config.secretKey, 'slack-oauth-state');
  const redirectUri = `${hub.config.publicUrl}/slack/oauth/callback`;
  const sign = (data: string) => createHmac('sha256', stateKey).update(data).digest('base64url');

  app.post(
    '/slack/oauth/start',
    {
      onRequest: app.authorize('admin'),
      schema: { tags: ['slack'], summary: 'Start installing the Slack app into a workspace', response: { 200: Type.Object({ url: Type.String() }) } },
    },
    async (req) => {
      if (!slack.options.clientId) throw new HubError(409, 'slack_oauth_not_configured', 'set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET to install through OAuth');
      // The state ties the callback to this account and admin, expires, and cannot be forged.
      const payload = Buffer.from(JSON.stringify({ a: req.principal.accountId, u: req.principal.userId, e: Math.floor(slack.now().getTime() / 1000) + STATE_TTL_SECONDS, n: randomBytes(12).toString('base64url') })).toString('base64url');
      const state = `${payload}.${sign(payload)}`;
      const url = new URL(slack.options.authorizeUrl ?? 'https://slack.com/oauth/v2/authorize');
      url.search = new URLSearchParams({ client_id: slack.options.clientId, scope: (slack.options.scopes ?? BOT_SCOPES).join(','), redirect_uri: redirectUri, state }).toString();
      return { url: url.toString() };
    },
  );

  const readState = (state: string | undefined): { a: string; u: string | null } => {
    const [payload, mac] = (state ?? '').split('.');
    if (!payload || !mac) throw new HubError(400, 'slack_oauth_state_invalid', 'the install link is invalid; start again from HummDesk');
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new HubError(400, 'slack_oauth_state_invalid', 'the install link is invalid; start again from HummDesk');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { a: string; u: string | null; e: number };
    if (claims.e < slack.now().getTime() / 1000) throw new HubError(400, 'slack_oauth_state_expired', 'the install link expired; start again from HummDesk');
    return claims;
  };

  app.get(
    '/slack/oauth/callback',
    { schema: { tags: ['slack'], hide: true, querystring: Type.Object({ code: Type.Optional(Type.String({ maxLength: 500 })), state: Type.Optional(Type.String({ maxLength: 2000 })), error: Type.Optional(Type.String({ maxLength: 200 })) }) } },
    async (req: FastifyRequest<{ Querystring: { code?: string; state?: string; error?: string } }>, reply) => {
      const claims = readState(req.query.state);
      if (req.query.error || !req.query.code) throw new HubError(400, 'slack_oauth_denied', `Slack did not grant the install: ${req.query.error ?? 'no code'}`);
      const { clientId, clientSecret, signingSecret } = slack.options;
      if (!clientId || !clientSecret || !signingSecret) throw new HubError(409, 'slack_oauth_not_configured', 'the Slack app credentials are not configured');
      let access;
      try {
        access = await slack.clients.for(undefined).oauth.v2.access({ client_id: clientId, client_secret: clientSecret, code: req.query.code, redirect_uri: redirectUri });
      } catch (err) {
        throw new HubError(502, 'slack_oauth_exchange_failed', toConnectorError(err).message);
      }
      const teamId = access.team?.id;
      if (!teamId || !access.access_token || access.token_type !== 'bot') throw new HubError(502, 'slack_oauth_exchange_failed', 'Slack returned no bot token');
      const secrets = { botToken: access.access_token, signingSecret };
      const install = () => withAccount(hub.db, claims.a, async (tx) => {
        // RLS hides other tenants' rows, so a workspace taken by another account shows up as a unique violation below.
        const existing = (await tx.query<{ id: string; config: Record<string, unknown> }>(`SELECT id, config FROM channels WHERE kind = 'slack' AND external_key = $1`, [teamId])).rows[0];
        const identity = { botUserId: access.bot_user_id, appId: access.app_id, teamName: access.team?.name };
        let id: string;
        if (existing) {
          // Reinstalling keeps the channel row (and with it every thread and setting): only the token changes.
          await updateChannel(tx, hub.box, existing.id, { secrets, config: { ...existing.config, ...identity }, enabled: true });
          hub.installations.forget();
          id = existing.id;
        } else {
          id = (await insertChannel(tx, hub.box, { accountId: claims.a, kind: 'slack', name: `Slack: ${access.team?.name ?? teamId}`, externalKey: teamId, secrets, config: identity })).id;
        }
        await audit(tx, { accountId: claims.a, actorKind: 'user', actorId: claims.u, action: existing ? 'slack.reinstalled' : 'slack.installed', targetKind: 'channel', targetId: id });
        return { id, reinstalled: !!existing };
      });
      const installed = await install().catch(async (err: unknown) => {
        if (!isUniqueViolation(err)) throw err;
        // Held by another account: freed when that binding has no bot token of this team (typed in, or uninstalled).
        if (await releaseStaleSlackTeam(hub, teamId)) return install();
        throw new HubError(409, 'slack_workspace_taken', 'this Slack workspace is connected to another HummDesk account');
      });
      return reply
        .type('text/html; charset=utf-8')
        .send(`<!doctype html><meta charset="utf-8"><title>HummDesk</title><p>Slack workspace ${escapeHtml(access.team?.name ?? teamId)} is ${installed.reinstalled ? 'reconnected' : 'connected'} to HummDesk. Next: choose its triage channel in HummDesk's Slack settings. You can close this tab.</p>`);
    },
  );
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export default slackRoutes;
