import type { Hub } from './context.js';
import { withAccount } from '../storage/session.js';
import { enqueue } from '../storage/repositories/outbox.js';
import { accountsToIndex, accountsToReindex, requestReindex } from '../ai/kb/reindex.js';
import { dropIndexesOfDeletedAccounts } from '../ai/kb/tenant-index.js';
import { LocalProvider } from '../ai/providers/local/provider.js';
import { analyzeHandler } from './workers/analyze.js';
import { aiStageDatabase } from './queue/ai-stage-budget.js';
import { ProviderSelector } from '../ai/providers/select.js';

const providers = new WeakMap<Hub, LocalProvider>();

/** The hub's local AI services (created on first use); routes reach models and the KB through it. */
export function localAi(hub: Hub): LocalProvider {
  let p = providers.get(hub);
  if (!p) providers.set(hub, (p = new LocalProvider({ db: hub.db, embedder: hub.embedders, models: hub.ai.models, log: hub.log })));
  return p;
}

/** Installs the AI stage. Models load in the background: start-up never waits for them. */
export function installAi(hub: Hub, opts: { warm?: boolean; reindex?: boolean } = {}): LocalProvider {
  const provider = localAi(hub);
  // Local by default; an account (or the environment) may choose Claude or an OpenAI-compatible server.
  hub.ai.provider = new ProviderSelector({ db: hub.db, local: provider, config: hub.config.ai, log: hub.log, box: hub.box });
  // The stage with auto-send: it replies through the same service agents use.
  // Within the stage's share of the pool, as the hub's own handler (hub/context.ts): ingest and requests keep their connections.
  hub.handlers['ai.classify'] = analyzeHandler({ db: aiStageDatabase(hub.db, hub.config.poolSize), bus: hub.bus, ai: () => hub.ai.provider, conversations: () => hub.conversations, log: hub.log });
  if (opts.warm ?? true) {
    const timer = setTimeout(() => {
      provider.warm().then(
        () => hub.log.info('local AI models loaded'),
        (err: unknown) => hub.log.warn({ err }, 'local AI models failed to load; the first job will retry'),
      );
    }, 0);
    timer.unref();
  }
  if (opts.reindex ?? true) {
    const timer = setTimeout(() => {
      scheduleKbReindexes(hub).catch((err: unknown) => hub.log.warn({ err }, 'could not check knowledge-base indexes; POST /api/v1/kb/reindex starts one'));
    }, 0);
    timer.unref();
  }
  return provider;
}

/** After start-up: accounts indexed with another model than the configured one are reindexed in the background. */
export async function scheduleKbReindexes(hub: Hub): Promise<number> {
  const model = hub.embedders.configured.modelId;
  await dropIndexesOfDeletedAccounts(hub.db);
  const stale = await accountsToReindex(hub.db, model);
  const large = (await accountsToIndex(hub.db)).filter((id) => !stale.includes(id));
  for (const accountId of stale) await withAccount(hub.db, accountId, (tx) => requestReindex(tx, accountId, model));
  for (const accountId of large) await withAccount(hub.db, accountId, (tx) => enqueue(tx, accountId, 'kb.reindex', {}));
  if (stale.length || large.length) {
    hub.log.info({ model, reindex: stale.length, index: large.length }, 'knowledge-base reindex scheduled');
    hub.runner.kick();
  }
  return stale.length + large.length;
}
