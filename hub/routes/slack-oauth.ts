import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { deriveKey } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation, insertChannel, updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import { BOT_SCOPES } from '../slack/app.js';
import { toConnectorError } from '../../connectors/slack/client.js';
import { isUniqueViolation } from '../../storage/unique-violation.js';
import { HubError } from '../errors.js';
import { releaseStaleSlackTeam } from '../slack/team-binding.js';
import { slackOf } from '../install-slack.js';
import { rotatingGrant } from '../slack/token-rotation.js';
import type { SlackInstallSecrets } from '../../connectors/slack/config.js';

const STATE_TTL_SECONDS = 10 * 60;
/** httpOnly, SameSite=Lax: sent on Slack's top-level redirect back to the callback, never readable by scripts. */
const STATE_COOKIE = 'hd_slack_oauth';

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
  const secureCookie = hub.config.publicUrl.startsWith('https:');
  const cookie = (value: string, maxAge: number) =>
    `${STATE_COOKIE}=${value}; Path=/slack/oauth; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secureCookie ? '; Secure' : ''}`;

  app.post(
    '/slack/oauth/start',
    {
      onRequest: app.authorize('admin'),
      schema: { tags: ['slack'], summary: 'Start installing the Slack app into a workspace (sets the cookie the callback checks)', response: { 200: Type.Object({ url: Type.String() }) } },
    },
    async (req, reply) => {
      if (!slack.options.clientId || !slack.options.clientSecret) throw new HubError(409, 'slack_oauth_not_configured', 'set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install through OAuth');
      const now = slack.now();
      const expiresAt = new Date(now.getTime() + STATE_TTL_SECONDS * 1000);
      // The state names the account and admin and cannot be forged; the cookie ties it to this browser, the nonce row to one use.
      const browser = randomBytes(18).toString('base64url');
      const nonce = randomBytes(18).toString('base64url');
      const { accountId, userId } = req.principal;
      await withAccount(hub.db, accountId, async (tx) => {
        await tx.query(`DELETE FROM slack_oauth_states WHERE expires_at < $1`, [now]);
        await tx.query(`INSERT INTO slack_oauth_states (account_id, nonce, user_id, expires_at) VALUES ($1, $2, $3, $4)`, [accountId, nonce, userId ?? null, expiresAt]);
      });
      const payload = Buffer.from(JSON.stringify({ a: accountId, u: userId ?? null, e: Math.floor(expiresAt.getTime() / 1000), n: nonce, b: browserHash(browser) })).toString('base64url');
      const state = `${payload}.${sign(payload)}`;
      const url = new URL(slack.options.authorizeUrl ?? 'https://slack.com/oauth/v2/authorize');
      url.search = new URLSearchParams({ client_id: slack.options.clientId, scope: (slack.options.scopes ?? BOT_SCOPES).join(','), redirect_uri: redirectUri, state }).toString();
      reply.header('set-cookie', cookie(browser, STATE_TTL_SECONDS));
      reply.header('cache-control', 'no-store');
      return { url: url.toString() };
    },
  );

  const invalid = () => new HubError(400, 'slack_oauth_state_invalid', 'the install link is invalid; start again from HummDesk');
  /** The state's claims once its signature, expiry and browser cookie hold; its nonce is spent separately. */
  const readState = (state: string | undefined, cookieHeader: string | undefined): StateClaims => {
    const [payload, mac, extra] = (state ?? '').split('.');
    if (!payload || !mac || extra !== undefined) throw invalid();
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    let claims: StateClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as StateClaims;
    } catch {
      throw invalid();
    }
    // Links signed before states were bound to a browser carry no nonce: they cannot be spent once, so they are refused.
    if (typeof claims.a !== 'string' || typeof claims.n !== 'string' || typeof claims.b !== 'string' || typeof claims.e !== 'number') throw invalid();
    if (claims.e < slack.now().getTime() / 1000) throw new HubError(400, 'slack_oauth_state_expired', 'the install link expired; start again from HummDesk');
    const browser = cookieValue(cookieHeader, STATE_COOKIE);
    if (!browser) throw new HubError(400, 'slack_oauth_cookie_missing', 'this browser did not start the install: start it from HummDesk in this browser, then approve it in Slack');
    const a = Buffer.from(browserHash(browser));
    const b = Buffer.from(claims.b);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HubError(400, 'slack_oauth_state_mismatch', 'this install link was started in another browser or session: start again from HummDesk in this browser');
    return claims;
  };

  app.get(
    '/slack/oauth/callback',
    { schema: { tags: ['slack'], hide: true, querystring: Type.Object({ code: Type.Optional(Type.String({ maxLength: 500 })), state: Type.Optional(Type.String({ maxLength: 2000 })), error: Type.Optional(Type.String({ maxLength: 200 })) }) } },
    async (req: FastifyRequest<{ Querystring: { code?: string; state?: string; error?: string } }>, reply) => {
      // The admin lands here in a browser: failures are a page with the code, never a bare JSON body.
      reply.header('cache-control', 'no-store');
      try {
        const installed = await callback(req);
        reply.header('set-cookie', cookie('', 0));
        return await reply
          .type('text/html; charset=utf-8')
          .send(page(`Slack workspace ${escapeHtml(installed.teamName)} is ${installed.reinstalled ? 'reconnected' : 'connected'} to HummDesk. Next: choose its triage channel in HummDesk's Slack settings. You can close this tab.`));
      } catch (err) {
        if (!(err instanceof HubError)) throw err;
        return reply
          .status(err.statusCode)
          .type('text/html; charset=utf-8')
          .send(page(`HummDesk could not connect the Slack workspace: ${escapeHtml(err.message)}.</p><p>Error code: <code>${escapeHtml(err.code)}</code>`));
      }
    },
  );

  const callback = async (req: FastifyRequest<{ Querystring: { code?: string; state?: string; error?: string } }>): Promise<{ teamName: string; reinstalled: boolean }> => {
    const claims = readState(req.query.state, req.headers.cookie);
    // Single use: the nonce row goes with the first callback that presents it, whatever Slack answered.
    const spent = await withAccount(hub.db, claims.a, async (tx) => (await tx.query(`DELETE FROM slack_oauth_states WHERE nonce = $1 RETURNING 1`, [claims.n])).rows.length);
    if (!spent) throw new HubError(400, 'slack_oauth_state_used', 'this install link was already used; start again from HummDesk');
    if (req.query.error || !req.query.code) throw new HubError(400, 'slack_oauth_denied', `Slack did not grant the install: ${req.query.error ?? 'no code'}`);
    const { clientId, clientSecret } = slack.options;
    if (!clientId || !clientSecret) throw new HubError(409, 'slack_oauth_not_configured', 'the Slack app credentials are not configured');
    let access;
    try {
      access = await slack.clients.for(undefined).oauth.v2.access({ client_id: clientId, client_secret: clientSecret, code: req.query.code, redirect_uri: redirectUri });
    } catch (err) {
      throw new HubError(502, 'slack_oauth_exchange_failed', toConnectorError(err).message);
    }
    // An org-wide install (Enterprise Grid) has no team: installs are per workspace, so say so plainly.
    if (access.is_enterprise_install === true) throw new HubError(400, 'slack_enterprise_install_unsupported', 'HummDesk is installed per workspace, not org-wide: an Enterprise Grid admin installs it into each workspace that should use it');
    const teamId = access.team?.id;
    if (!teamId || !access.access_token || access.token_type !== 'bot') throw new HubError(502, 'slack_oauth_exchange_failed', 'Slack returned no bot token');
    // Token rotation on: the bot token expires (12 h) and is renewed with the refresh token (hub/slack/token-rotation.ts).
    const rotation = rotatingGrant(access, slack.now());
    const granted: SlackInstallSecrets = { botToken: access.access_token, ...(rotation ? { refreshToken: rotation.refreshToken } : {}) };
    const install = () => withAccount(hub.db, claims.a, async (tx) => {
      // RLS hides other tenants' rows, so a workspace taken by another account shows up as a unique violation below.
      const existing = (await tx.query<{ id: string }>(`SELECT id FROM channels WHERE kind = 'slack' AND external_key = $1`, [teamId])).rows[0];
      const identity = { botUserId: access.bot_user_id, appId: access.app_id, teamName: access.team?.name, ...(rotation ? { botTokenExpiresAt: rotation.expiresAt } : {}) };
      let id: string;
      if (existing) {
        // Reinstalling keeps the channel row (and with it every thread and setting) and every secret
        // the grant does not replace: a Socket Mode app-level token stays.
        const current = (await getInstallation(tx, hub.box, existing.id))!;
        const config = { ...current.config, ...identity };
        if (!rotation) delete config.botTokenExpiresAt;
        const secrets: Record<string, string> = { ...current.secrets, ...granted };
        if (!rotation) delete secrets.refreshToken;
        await updateChannel(tx, hub.box, existing.id, { secrets, config, enabled: true });
        hub.installations.forget();
        id = existing.id;
      } else {
        id = (await insertChannel(tx, hub.box, { accountId: claims.a, kind: 'slack', name: `Slack: ${access.team?.name ?? teamId}`, externalKey: teamId, secrets: granted as Record<string, string>, config: identity })).id;
      }
      await audit(tx, { accountId: claims.a, actorKind: 'user', actorId: claims.u, action: existing ? 'slack.reinstalled' : 'slack.installed', targetKind: 'channel', targetId: id, data: { tokenRotation: !!rotation } });
      return { id, reinstalled: !!existing };
    });
    const installed = await install().catch(async (err: unknown) => {
      if (!isUniqueViolation(err)) throw err;
      // Held by another account: freed when that binding has no bot token of this team (typed in, or uninstalled).
      if (await releaseStaleSlackTeam(hub, teamId)) return install();
      throw new HubError(409, 'slack_workspace_taken', 'this Slack workspace is connected to another HummDesk account');
    });
    return { teamName: access.team?.name ?? teamId, reinstalled: installed.reinstalled };
  };
};

interface StateClaims {
  /** account id */
  a: string;
  /** admin user id (null for an API key) */
  u: string | null;
  /** expiry, Unix seconds */
  e: number;
  /** the single-use nonce (slack_oauth_states) */
  n: string;
  /** hash of the browser secret in the install cookie */
  b: string;
}

function browserHash(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

function page(body: string): string {
  return `<!doctype html><meta charset="utf-8"><title>HummDesk</title><p>${body}</p>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export default slackRoutes;
