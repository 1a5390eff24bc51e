import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { withAccount } from '../../storage/session.js';
import type { Queryable } from '../../storage/database.js';
import { audit } from '../../storage/repositories/audit.js';
import { DEFAULT_CATEGORY_EXAMPLES } from '../../ai/classify/defaults.js';
import type { AiConfig } from '../config.js';
import { badRequest } from '../errors.js';
import { Nullable } from '../schemas.js';

type ProviderName = AiConfig['provider'];
const ProviderName = Type.Union([Type.Literal('local'), Type.Literal('anthropic'), Type.Literal('openai-compatible')]);

const AutoSend = Type.Object({
  enabled: Type.Boolean(),
  minConfidence: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'the classification confidence a draft needs (above 0, at most 1)' })),
  categories: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, uniqueItems: true, description: 'only drafts in these categories go out unreviewed' }),
}, { additionalProperties: false });

const Settings = Type.Object({
  provider: Type.Object({
    chosen: Type.Union([ProviderName, Type.Null()], { description: "the account's choice; null: the operator's default" }),
    model: Nullable(Type.String()),
    effective: ProviderName,
    accountKey: Type.Boolean({ description: 'the account stored its own key for its provider (never shown again)' }),
  }),
  providers: Type.Array(Type.Object({
    name: ProviderName,
    configured: Type.Boolean({ description: 'the operator holds a key (or endpoint) for it' }),
    defaultModel: Nullable(Type.String()),
  }), { description: 'the providers the operator lets accounts choose' }),
  tenantKeys: Type.Boolean({ description: 'the operator lets accounts give their own key' }),
  operatorDefault: ProviderName,
  autoSend: AutoSend,
  categories: Type.Array(Type.Object({
    name: Type.String(),
    builtIn: Type.Boolean(),
    examples: Type.Integer({ description: "the account's own examples (agents' corrections included)" }),
    corrections: Type.Integer({ description: 'agents corrected a conversation to this category in the last 30 days' }),
    samples: Type.Array(Type.String(), { description: 'a few of its examples, newest first' }),
  })),
});
type Settings = Static<typeof Settings>;

const Patch = Type.Object({
  provider: Type.Optional(Type.Union([ProviderName, Type.Null()], { description: "null: back to the operator's default" })),
  model: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/@-]+$' }))),
  apiKey: Type.Optional(Type.Union([Type.String({ minLength: 8, maxLength: 500 }), Type.Null()], { description: 'only where the operator allows tenant keys; null forgets it' })),
  autoSend: Type.Optional(AutoSend),
}, { additionalProperties: false, minProperties: 1 });

interface StoredAi { provider?: string; model?: string; keySealed?: string; autoSend?: { enabled?: boolean; minConfidence?: number; categories?: string[] } }

async function stored(tx: Queryable, accountId: string): Promise<StoredAi> {
  return (await tx.query<{ ai: StoredAi | null }>(`SELECT settings->'ai' AS ai FROM accounts WHERE id = $1`, [accountId])).rows[0]?.ai ?? {};
}

async function categories(tx: Queryable): Promise<Settings['categories']> {
  const { rows } = await tx.query<{ category: string; examples: number; corrections: number; samples: string[] }>(
    `SELECT category, count(*)::int AS examples,
            count(*) FILTER (WHERE source = 'correction' AND created_at > now() - interval '30 days')::int AS corrections,
            (array_agg(left(text, 200) ORDER BY created_at DESC))[1:3] AS samples
       FROM ai_category_examples GROUP BY category`,
  );
  const own = new Map(rows.map((r) => [r.category, r]));
  const names = [...new Set([...Object.keys(DEFAULT_CATEGORY_EXAMPLES), ...own.keys()])].sort();
  return names.map((name) => {
    const r = own.get(name);
    const builtIn = name in DEFAULT_CATEGORY_EXAMPLES;
    return { name, builtIn, examples: r?.examples ?? 0, corrections: r?.corrections ?? 0, samples: r?.samples ?? (builtIn ? DEFAULT_CATEGORY_EXAMPLES[name]!.slice(0, 3) : []) };
  });
}

/** Whether the operator holds what a provider needs (a key, an endpoint and a model). */
function configured(c: AiConfig, name: ProviderName): boolean {
  if (name === 'anthropic') return !!c.anthropicApiKey;
  if (name === 'openai-compatible') return !!c.openaiBaseUrl && !!c.openaiModel;
  return true;
}

const defaultModel = (c: AiConfig, name: ProviderName) => (name === 'anthropic' ? c.anthropicModel : name === 'openai-compatible' ? c.openaiModel ?? null : null);

/**
 * An account's AI settings (`accounts.settings.ai`): which provider the operator lets it use, its own
 * key where allowed (sealed, never shown), and the auto-send policy the AI stage reads (ai/autosend/).
 */
const aiSettings: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config, box } = app.hub;
  const c = config.ai;

  const view = async (tx: Queryable, accountId: string): Promise<Settings> => {
    const s = await stored(tx, accountId);
    const chosen = s.provider && c.accountProviders.includes(s.provider as ProviderName) ? (s.provider as ProviderName) : null;
    const accountKey = !!s.keySealed && c.tenantKeys;
    const wanted = chosen ?? c.provider;
    const usable = configured(c, wanted) || (accountKey && wanted !== 'openai-compatible') || (accountKey && !!c.openaiBaseUrl);
    return {
      provider: { chosen, model: chosen ? s.model ?? null : null, effective: usable ? wanted : 'local', accountKey },
      providers: c.accountProviders.map((name) => ({ name, configured: configured(c, name), defaultModel: defaultModel(c, name) })),
      tenantKeys: c.tenantKeys,
      operatorDefault: c.provider,
      autoSend: { enabled: s.autoSend?.enabled ?? false, minConfidence: s.autoSend?.minConfidence ?? null, categories: s.autoSend?.categories ?? [] },
      categories: await categories(tx),
    };
  };

  app.get('/ai/settings', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['ai'], summary: "The account's AI provider, auto-send policy and categories", response: { 200: Settings } },
  }, async (req) => withAccount(db, req.principal.accountId, (tx) => view(tx, req.principal.accountId)));

  app.patch('/ai/settings', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['ai'],
      summary: "Change the account's AI provider (among those the operator allows), its own key where allowed, and the auto-send policy",
      description: 'Refused with 400: `provider_not_allowed`, `provider_not_configured` (the operator holds no key and the account gave none), `tenant_keys_not_allowed`, `model_not_allowed` (local has no model choice), `auto_send_incomplete` (enabled without a threshold or categories), `unknown_category`. Nothing is changed by a refused request.',
      body: Patch,
      response: { 200: Settings },
    },
  }, async (req) => {
    const accountId = req.principal.accountId;
    const b = req.body;
    return withAccount(db, accountId, async (tx) => {
      const s = await stored(tx, accountId);
      const next: StoredAi = { ...s };
      if (b.apiKey !== undefined) {
        if (b.apiKey !== null && !c.tenantKeys) throw badRequest('tenant_keys_not_allowed', 'this hub does not take accounts\' own keys; the operator holds them');
        if (b.apiKey === null) delete next.keySealed;
        else next.keySealed = box.seal({ apiKey: b.apiKey });
      }
      if (b.provider !== undefined) {
        if (b.provider === null) {
          delete next.provider;
          delete next.model;
        } else {
          if (!c.accountProviders.includes(b.provider)) throw badRequest('provider_not_allowed', `this hub does not let accounts choose ${b.provider}; allowed: ${c.accountProviders.join(', ')}`, { allowed: c.accountProviders });
          // A changed provider does not keep the old one's model or key.
          if (b.provider !== s.provider) {
            delete next.model;
            if (b.apiKey === undefined) delete next.keySealed;
          }
          next.provider = b.provider;
        }
      }
      if (b.model !== undefined) {
        if (b.model === null) delete next.model;
        else if (!next.provider || next.provider === 'local') throw badRequest('model_not_allowed', 'choose Claude or an OpenAI-compatible provider before a model; the local models have no choice');
        else next.model = b.model;
      }
      if (next.provider && next.provider !== 'local' && !configured(c, next.provider as ProviderName)) {
        const ownKey = !!next.keySealed && c.tenantKeys && (next.provider !== 'openai-compatible' || !!c.openaiBaseUrl) && (next.provider !== 'openai-compatible' || !!(next.model ?? c.openaiModel));
        if (!ownKey) throw badRequest('provider_not_configured', `${next.provider} is not configured on this hub${c.tenantKeys ? ' (give the account\'s own key)' : ''}`);
      }
      if (b.autoSend) {
        const a = b.autoSend;
        if (a.enabled && (a.minConfidence === null || a.categories.length === 0))
          throw badRequest('auto_send_incomplete', 'auto-send needs a confidence threshold and at least one category', { minConfidence: a.minConfidence, categories: a.categories });
        const known = new Set((await categories(tx)).map((x) => x.name));
        const unknown = a.categories.filter((x) => !known.has(x));
        if (unknown.length) throw badRequest('unknown_category', `not a category of this account: ${unknown.join(', ')}`, { unknown });
        next.autoSend = { enabled: a.enabled, ...(a.minConfidence === null ? {} : { minConfidence: a.minConfidence }), categories: a.categories };
      }
      await tx.query(`UPDATE accounts SET settings = jsonb_set(coalesce(settings, '{}'::jsonb), '{ai}', $2::jsonb) WHERE id = $1`, [accountId, JSON.stringify(next)]);
      const changed = Object.keys(b).map((k) => (k === 'apiKey' ? (b.apiKey === null ? 'apiKey removed' : 'apiKey set') : k));
      await audit(tx, {
        accountId, actorKind: req.principal.userId ? 'user' : 'api_key', actorId: req.principal.userId ?? req.principal.apiKeyId ?? null,
        action: 'ai.settings_updated', targetKind: 'account', targetId: accountId,
        data: { changed, provider: next.provider ?? null, model: next.model ?? null, autoSend: next.autoSend ?? null },
      });
      return view(tx, accountId);
    });
  });
};

export default aiSettings;
