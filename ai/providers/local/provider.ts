import type { Logger } from 'pino';
import type { Database, Queryable } from '../../../storage/database.js';
import { tenantReads, withAccount } from '../../../storage/session.js';
import type { Analysis, AnalysisInput, ConversationAi, DraftProposal } from '../../../hub/ai-stage.js';
import type { Embedder } from '../../embed/embedder.js';
import { CategoryModels } from '../../classify/store.js';
import { SentimentModels } from '../../feedback/sentiment-store.js';
import { UNKNOWN } from '../../classify/model.js';
import { embedQuery, readAccountKbIndex } from '../../kb/query.js';
import { searchAccountKb, searchKb, type Passage, type VectorSet } from '../../kb/search.js';
import { hasPassagesOutside, variantPassages } from '../../kb/articles.js';
import { composeDrafts, score, type Candidate } from '../../draft/compose.js';
import { CITE_THRESHOLD } from '../../draft/gate.js';
import { detectLanguage } from './language.js';
import { SentimentModel } from './sentiment.js';
import type { LocalModels } from '../../workers/models.js';
import { decidePriority } from './priority.js';
import { SharedReads } from './shared-reads.js';

// A passage a model's follow-up search returns must have at least this cosine similarity.
const MIN_SIMILARITY = 0.35;
// Passages that ground the analysis (and an external model); the search looks further for alternative drafts.
const GROUNDING = 3;
const SEARCH = 6;

export interface AccountAiSettings {
  /** Languages the account serves; a prior for language ID. */
  languages?: string[];
}

/**
 * The offline provider: eld for language, a learned hashed-n-gram model for sentiment, the account's
 * own category model (n-grams + sentence embeddings), a priority rule, and extractive drafts built
 * from knowledge-base passages and per-category templates. Nothing here opens a network connection.
 */
export class LocalProvider implements ConversationAi {
  readonly name = 'local';
  readonly categories: CategoryModels;
  /** The shipped sentiment model refined by each account's corrections. */
  readonly sentiments: SentimentModels;
  private sentimentModel?: SentimentModel;
  /** Concurrent analyses of one account (a batch) share its settings and model-version reads. */
  private readonly reads = new SharedReads();

  /** `models` runs every model call in the AI threads (ai/workers/); the provider itself only reads and decides. */
  constructor(private readonly deps: { db: Database; embedder: Embedder; models: LocalModels; log?: Logger }) {
    this.categories = new CategoryModels(deps.db, deps.embedder, deps.models);
    this.sentiments = new SentimentModels(deps.db, () => this.sentiment(), { log: deps.log, models: deps.models });
  }

  get embedder(): Embedder {
    return this.deps.embedder;
  }

  sentiment(): SentimentModel {
    return (this.sentimentModel ??= SentimentModel.fromFile());
  }

  /** Loads every model (in the AI threads); start-up calls this in the background, the first job otherwise waits for it. */
  async warm(): Promise<void> {
    this.sentiment();
    const category = await this.categories.defaultRef();
    await this.deps.models.analyze({ text: 'warm up', languages: [], category: category.key, sentiment: null, model: () => ({ kind: 'category', model: category.json }) });
  }

  async analyze(input: AnalysisInput): Promise<Analysis> {
    return (await this.ground(input)).analysis;
  }

  /** The local analysis with the knowledge-base passages it used; external providers are grounded on them. */
  async ground(input: AnalysisInput): Promise<{ analysis: Analysis; passages: Passage[]; categories: string[]; threshold: number }> {
    const inbound = input.messages.filter((m) => m.direction === 'inbound');
    const latest = inbound[inbound.length - 1]?.text ?? '';
    // The subject carries meaning for the first email of a thread; later messages stand alone.
    const text = analysisText(input.conversation.subject, inbound.length <= 1, latest);
    const settings = await this.reads.get(`settings:${input.accountId}`, async () =>
      ((await tenantReads(this.deps.db, input.accountId).query<{ ai: AccountAiSettings | null }>(`SELECT settings->'ai' AS ai FROM accounts WHERE id = $1`, [input.accountId])).rows[0]?.ai ?? {}));
    const categoryRef = await this.reads.get(`category:${input.accountId}`, () => this.categories.refFor(input.accountId));
    const sentimentRef = await this.reads.get(`sentiment:${input.accountId}`, () => this.sentiments.refFor(input.accountId));
    // Language, embedding, category and sentiment in one call to the AI threads, batched with other jobs'.
    const modelsStarted = performance.now();
    const analyzed = await this.deps.models.analyze({
      text, languages: settings.languages ?? [], category: categoryRef.key, sentiment: sentimentRef.key,
      model: (key) => (key === categoryRef.key ? { kind: 'category', model: categoryRef.json } : key === sentimentRef.key && sentimentRef.residual ? { kind: 'sentiment', residual: sentimentRef.residual } : undefined),
    });
    const offThreadMs = performance.now() - modelsStarted;
    const lang = analyzed.language ?? undefined;
    const language = lang?.language ?? input.conversation.language ?? undefined;
    const vector = analyzed.vector;
    const categoryModel = categoryRef.model;
    const category = analyzed.category;
    const sentiment = analyzed.sentiment ?? undefined;
    const priority = decidePriority(text, sentiment, category.category === UNKNOWN ? category.best : category.category);
    const found = text && language ? await this.passages(input.accountId, text, vector!, language) : { inLanguage: [], elsewhere: [] };
    // Only passages in the customer's language that pass the relevance gate ground a draft (and an external model).
    const passages = score(text, found.inLanguage, language).filter((p) => p.relevance >= CITE_THRESHOLD).slice(0, GROUNDING);
    const composed = composeDrafts({ text, language, sentiment: sentiment?.sentiment, priority: priority.priority, name: firstName(input) }, found.inLanguage, found.elsewhere);
    const { draft, alternatives } = composed;
    const analysis: Analysis = {
      provider: 'local',
      model: `local/${this.deps.embedder.modelId}+${this.sentiment().id}`,
      classification: { category: category.category, priority: priority.priority, sentiment: sentiment?.sentiment, language, confidence: round(category.confidence) },
      ...(draft ? { draft } : {}),
      ...(alternatives.length ? { alternatives } : {}),
      evidence: {
        language: lang ? { ...lang, confidence: round(lang.confidence) } : null,
        category: { best: category.best, threshold: categoryModel.threshold, alternatives: category.alternatives.map((a) => ({ ...a, confidence: round(a.confidence) })) },
        sentiment: sentiment ? { label: sentiment.sentiment, confidence: round(sentiment.confidence) } : null,
        priority: priority.reasons,
        passages: passages.map((p) => ({ chunkId: p.chunkId, articleId: p.articleId, score: round(p.score), similarity: p.similarity === null ? null : round(p.similarity), relevance: p.relevance })),
        draft: composed.note,
      },
      offThreadMs,
    };
    return { analysis, passages, categories: categoryModel.categories, threshold: categoryModel.threshold };
  }

  /** More passages for a model's follow-up question, from the same account only. */
  async search(accountId: string, query: string, limit = 3): Promise<Passage[]> {
    const [vector] = await this.deps.embedder.embed([query || ' '], { accountId, lane: 'analysis' });
    return (await searchAccountKb(this.deps.db, accountId, this.deps.embedder, query, { limit, vector })).filter(relevant);
  }

  /**
   * Draft candidates: the account's passages in the customer's language, and (for a suggestion to the
   * agent, or the customer-language variant of the same article) the best ones in other languages.
   */
  private async passages(accountId: string, text: string, vector: Float32Array, language: string): Promise<{ inLanguage: Passage[]; elsewhere: (Passage & { variant?: Candidate })[] }> {
    // Which model the account's passages are in: one read for the analyses running together.
    const index = await this.reads.get(`kb-index:${accountId}`, () => readAccountKbIndex(this.deps.db, accountId));
    // Embedded (when the account's model is not the local one) before any search statement runs.
    const query = await embedQuery(this.deps.db, accountId, this.deps.embedder, text, { vector, readIndex: async () => index });
    const vectors: VectorSet | null = index?.model && index.dim ? { accountId, model: index.model, dim: index.dim, hnsw: index.hnswModel === index.model } : null;
    const search = async (tx: Queryable) => {
      const inLanguage = await searchKb(tx, query, { limit: SEARCH, language, vectors });
      // With every passage in the customer's language the search in all languages would find only passages
      // it drops: skipped, the most expensive statement of an analysis once a knowledge base is large.
      const elsewhere = (await hasPassagesOutside(tx, language)) ? (await searchKb(tx, query, { limit: SEARCH, vectors })).filter((p) => p.language !== language) : [];
      const variants = await variantPassages(tx, [...new Set(elsewhere.map((p) => p.articleId))], language);
      return { inLanguage, elsewhere: elsewhere.map((p) => ({ ...p, variant: variants.get(p.articleId) })) };
    };
    // On PostgreSQL each statement as the tenant in one round trip, no BEGIN or COMMIT (they need no shared
    // snapshot); an HNSW search sets its scan up in a transaction, and on PGlite a transaction is cheaper.
    if (this.deps.db.kind === 'postgres' && !vectors?.hnsw) return search(tenantReads(this.deps.db, accountId));
    return withAccount(this.deps.db, accountId, search);
  }
}

function relevant(p: Passage): boolean {
  return (p.similarity ?? 0) >= MIN_SIMILARITY;
}

function firstName(_input: AnalysisInput): string {
  // The analysis input carries no contact name yet; templates greet without one.
  return '';
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The text a message is classified by: the subject carries meaning for a thread's first message only. */
export function analysisText(subject: string | null | undefined, firstInbound: boolean, body: string): string {
  return (firstInbound && subject ? `${subject}\n${body}` : body).trim();
}
