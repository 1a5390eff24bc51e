import type { EmbedOptions, Embedder } from '../embed/embedder.js';
import type { LabelledExample, SerializedCategoryModel } from '../classify/model.js';
import type { Sentiment } from '../providers/local/sentiment.js';
import type { SerializedSentimentResidual } from '../providers/local/sentiment-corrections.js';
import type { AiCompute, AiLane } from './pool.js';
import type { AnalyzedText, ModelJson, TextToAnalyze } from './kernel.js';

/** Texts per model call: where batching the sentence encoder stops paying off (bench/ai-stage). */
export const AI_BATCH = 32;
/** A search waits this long for a free thread, then goes by words alone. */
export const SEARCH_WAIT_MS = 2000;

/**
 * Calls that arrive while the lane's threads are busy wait and go together, up to `max` items per call:
 * one message at a time when the hub is quiet, batches of up to 32 when work queues up.
 */
class Batcher<I, O> {
  private waiting: { item: I; resolve(o: O): void; reject(e: unknown): void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly concurrency: () => number,
    private readonly max = AI_BATCH,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.concurrency() || !this.waiting.length) return;
    this.scheduled = true;
    // Calls made in the same turn of the event loop join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.concurrency() && this.waiting.length) {
      const batch = this.waiting.splice(0, this.max);
      this.inFlight++;
      this.run(batch.map((b) => b.item)).then(
        (out) => batch.forEach((b, i) => b.resolve(out[i]!)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      ).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }
}

/** The local sentence encoder, computed in the AI threads; small calls of one lane are batched together. */
export class ThreadEmbedder implements Embedder {
  readonly modelId = 'use-lite-512';
  readonly dimension = 512;
  private readonly lanes: Record<Exclude<AiLane, 'bulk'>, Batcher<string, Float32Array>>;

  constructor(private readonly compute: AiCompute) {
    // Searches go first in the pool, so they may hold all threads but one: messages keep moving.
    const lane = (l: 'interactive' | 'analysis') => new Batcher<string, Float32Array>(
      (texts) => compute.run({ kind: 'embed', texts }, { lane: l, maxWaitMs: l === 'interactive' ? SEARCH_WAIT_MS : undefined }),
      () => (l === 'interactive' ? Math.max(1, compute.size - 1) : compute.size),
    );
    this.lanes = { interactive: lane('interactive'), analysis: lane('analysis') };
  }

  async embed(texts: string[], o: EmbedOptions = {}): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const lane = o.lane ?? 'interactive';
    if (lane !== 'bulk' && texts.length < AI_BATCH) return Promise.all(texts.map((t) => this.lanes[lane].add(t)));
    // Bulk work goes in slices, so messages and searches get a thread between two of them.
    const slices: Promise<Float32Array[]>[] = [];
    for (let i = 0; i < texts.length; i += AI_BATCH) slices.push(this.compute.run({ kind: 'embed', texts: texts.slice(i, i + AI_BATCH) }, { lane: 'bulk', accountId: o.accountId, work: o.work }));
    return (await Promise.all(slices)).flat();
  }
}

/** One message for the AI stage, with the serialised models its keys name (sent to a thread that lacks them). */
export interface AnalysisRequest extends TextToAnalyze {
  model(key: string): ModelJson | undefined;
}

/**
 * The local models as the hub uses them: every call runs in the AI threads (or inline, see InlineCompute).
 * Analyses of concurrent jobs are batched into one model call.
 */
export class LocalModels {
  readonly embedder: ThreadEmbedder;
  private readonly analyses: Batcher<AnalysisRequest, AnalyzedText>;

  constructor(readonly compute: AiCompute) {
    const concurrency = () => compute.size;
    this.embedder = new ThreadEmbedder(compute);
    this.analyses = new Batcher((items) => this.analyzeBatch(items), concurrency);
  }

  analyze(request: AnalysisRequest): Promise<AnalyzedText> {
    return this.analyses.add(request);
  }

  /**
   * Embeds the examples in bulk slices, then trains: neither blocks a thread for long, nor the main thread at all.
   * `known` are the vectors of the first examples (the default examples', cached), not embedded again.
   */
  async trainCategories(accountId: string | undefined, examples: LabelledExample[], known: Float32Array[] = []): Promise<SerializedCategoryModel> {
    const vectors = endToEnd([...known, ...(await this.embedder.embed(examples.slice(known.length).map((e) => e.text), { accountId, lane: 'bulk', work: 'retrain' }))]);
    // One buffer moves to the thread: a structured clone of thousands of vectors would hold this thread.
    return this.compute.run({ kind: 'train-categories', examples, vectors }, { lane: 'bulk', accountId, work: 'retrain', transfer: [vectors.buffer as ArrayBuffer] });
  }

  learnSentiment(accountId: string, examples: { text: string; label: Sentiment }[]): Promise<SerializedSentimentResidual> {
    return this.compute.run({ kind: 'learn-sentiment', examples }, { lane: 'bulk', accountId, work: 'retrain' });
  }

  close(): Promise<void> {
    return this.compute.close();
  }

  private async analyzeBatch(items: AnalysisRequest[]): Promise<AnalyzedText[]> {
    const plain: TextToAnalyze[] = items.map(({ text, languages, category, sentiment }) => ({ text, languages, category, sentiment }));
    const first = await this.compute.run({ kind: 'analyze', items: plain }, { lane: 'analysis' });
    if ('items' in first) return first.items;
    // The thread has not seen some models (new, retrained, or a fresh thread): send every model of the
    // batch along, since the second call may reach another thread.
    const models: Record<string, ModelJson> = {};
    for (const key of new Set(plain.flatMap((i) => (i.sentiment ? [i.category, i.sentiment] : [i.category])))) {
      const json = items.map((i) => i.model(key)).find(Boolean);
      if (!json) throw new Error(`no model for ${key}`);
      models[key] = json;
    }
    const second = await this.compute.run({ kind: 'analyze', items: plain, models }, { lane: 'analysis' });
    if ('items' in second) return second.items;
    throw new Error(`the AI thread still lacks ${second.missing.join(', ')}`);
  }
}

/** Vectors of one dimension end to end in a new array (the callers' own, such as cached ones, stay intact). */
export function endToEnd(vectors: Float32Array[]): Float32Array {
  const dim = vectors[0]?.length ?? 0;
  const out = new Float32Array(vectors.length * dim);
  for (const [i, v] of vectors.entries()) {
    if (v.length !== dim) throw new Error(`vector ${i} has ${v.length} numbers, not ${dim}`);
    out.set(v, i * dim);
  }
  return out;
}
