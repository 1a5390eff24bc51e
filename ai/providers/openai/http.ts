import type { Dispatcher } from 'undici';

// undici is about a hundred modules: it loads when a server is first called, not in every process.
let undici: Promise<typeof import('undici')> | undefined;
const loadUndici = () => (undici ??= import('undici'));

/** A dispatcher made on first use (and then reused). */
export type LazyDispatcher = () => Promise<Dispatcher>;

/** How an OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp) is reached: chat and embeddings alike. */
export interface EndpointOptions {
  /** e.g. http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434/v1 (Ollama), https://api.openai.com/v1 */
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** First backoff step without a retry-after header (tests shorten it). */
  retryBaseMs?: number;
}

/**
 * undici's RetryAgent: 408/409/429/5xx/529 and dropped connections are retried with exponential
 * backoff, honouring retry-after; each attempt has the timeout.
 */
export function retryingDispatcher(o: EndpointOptions): LazyDispatcher {
  let made: Promise<Dispatcher> | undefined;
  return () => (made ??= loadUndici().then((u) => makeRetrying(u, o)));
}

function makeRetrying({ Agent, RetryAgent }: typeof import('undici'), o: EndpointOptions): Dispatcher {
  const timeout = o.timeoutMs ?? 30_000;
  return new RetryAgent(new Agent({ headersTimeout: timeout, bodyTimeout: timeout, connectTimeout: timeout }), {
    maxRetries: o.maxRetries ?? 2,
    minTimeout: o.retryBaseMs ?? 500,
    maxTimeout: 60_000,
    timeoutFactor: 2,
    methods: ['POST'],
    statusCodes: [408, 409, 429, 500, 502, 503, 504, 529],
    errorCodes: ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'],
  });
}

/** What went wrong once the retries are spent, for each client's own stable error codes. */
export type EndpointFailure = { kind: 'status'; status: number; text: string } | { kind: 'timeout' } | { kind: 'network'; message: string };

export class EndpointError extends Error {
  constructor(readonly failure: EndpointFailure) {
    super(failure.kind === 'status' ? `${failure.status}: ${failure.text}` : failure.kind === 'timeout' ? 'the endpoint did not answer in time' : failure.message);
  }
}

/** POSTs JSON to `{baseUrl}{path}` and returns the answer's text; any failure after the retries is an EndpointError. */
export async function postJson(o: EndpointOptions, dispatcher: LazyDispatcher, path: string, body: unknown): Promise<string> {
  const { request } = await loadUndici();
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${o.baseUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      dispatcher: await dispatcher(),
      headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const e = err as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'UND_ERR_REQ_RETRY' && e.statusCode) throw new EndpointError({ kind: 'status', status: e.statusCode, text: 'still failing after retries' });
    if (e.code && /TIMEOUT/.test(e.code)) throw new EndpointError({ kind: 'timeout' });
    throw new EndpointError({ kind: 'network', message: e.message ?? String(err) });
  }
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new EndpointError({ kind: 'status', status: res.statusCode, text: text.slice(0, 300) });
  return text;
}
