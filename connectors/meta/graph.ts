import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../core/errors.js';

/** The Graph API version an installation uses unless it names another. */
export const DEFAULT_GRAPH_VERSION = 'v25.0';
export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com';

const VERSION = /^v\d{1,3}\.\d{1,2}$/;

/** Graph error codes (never titles, which Meta rewords) that mean "slow down": retried later. */
const RATE_LIMIT_CODES = new Set([4, 17, 613, 80007, 130429, 131056]);
/** The request never got a verdict on Meta's side ("temporarily unavailable", "something went wrong"). */
const TRANSIENT_CODES = new Set([1, 2, 131000, 131016]);
const AUTH_CODES = new Set([102, 190]);
/** The business number or Page a call was about no longer exists for the installation's token. */
export const INSTALLATION_REMOVED = 'meta_installation_removed';
/** WhatsApp refusals an agent can act on, by code. */
const WHATSAPP_PERMANENT: Record<number, string> = {
  131053: 'whatsapp_media_rejected',
  132000: 'whatsapp_template_params_mismatch',
  132001: 'whatsapp_template_not_found',
  132012: 'whatsapp_template_param_format',
  132018: 'whatsapp_template_variable_invalid',
};

/** The error object Graph answers with: `{ "error": { message, type, code, error_subcode, error_data, fbtrace_id } }`. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { details?: string } | string;
  fbtrace_id?: string;
}

export function checkGraphVersion(version: string, connector: string): string {
  if (!VERSION.test(version)) throw new ConnectorError(`Graph API version "${version}" is not of the form v25.0`, connector, 'graph_version_invalid');
  return version;
}

/**
 * One Graph API error as a typed connector error, decided by `code` / `error_subcode` and the HTTP
 * status: rate limits (and HTTP 429) are retried later; 190 is a token the operator must renew;
 * the 24-hour windows (WhatsApp 131047, Messenger 10 / 2018278) are permanent for this message;
 * 5xx and Meta's own "try again" codes are transient; any other refusal is permanent.
 */
export function graphError(connector: string, httpStatus: number, error: GraphErrorBody | undefined, retryAfterHeader?: string | null, opts: { installation?: boolean } = {}): ConnectorError {
  const code = typeof error?.code === 'number' ? error.code : undefined;
  const sub = typeof error?.error_subcode === 'number' ? error.error_subcode : undefined;
  const details = typeof error?.error_data === 'object' ? error.error_data?.details : typeof error?.error_data === 'string' ? error.error_data : undefined;
  const what = `Graph error ${code ?? httpStatus}${sub !== undefined ? `/${sub}` : ''}: ${error?.message ?? `HTTP ${httpStatus}`}${details ? ` (${details})` : ''}`;
  if (httpStatus === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code))) return new RateLimitError(connector, retryAfterMs(retryAfterHeader));
  if (code !== undefined && AUTH_CODES.has(code)) return new AuthError(connector, what);
  if (code === 131047) return new PermanentError(connector, what, 'whatsapp_window_closed');
  if (code !== undefined && WHATSAPP_PERMANENT[code]) return new PermanentError(connector, what, WHATSAPP_PERMANENT[code]);
  if (code === 10 && sub === 2018278) return new PermanentError(connector, what, 'messenger_window_closed');
  // "Object with ID … does not exist" about the installation's own object: the number or Page is gone from what the token reaches.
  if (opts.installation && code === 100 && sub === 33) return new PermanentError(connector, what, INSTALLATION_REMOVED);
  if (httpStatus >= 500 || (code !== undefined && TRANSIENT_CODES.has(code))) return new TransientError(connector, what);
  return new PermanentError(connector, what, code !== undefined ? `meta_error_${code}` : 'channel_rejected');
}

function retryAfterMs(header: string | null | undefined): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : 60_000;
}

export interface GraphRequest {
  token: string;
  version: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path segments after the version (`[phoneNumberId, 'messages']`), each encoded: a tenant's id can never leave its segment. */
  path: string[];
  query?: Record<string, string>;
  body?: unknown;
  /** The path's object is the installation itself (the business number, the Page): "does not exist" means it was removed. */
  installation?: boolean;
}

/**
 * The Graph API client every Meta connector shares. Its base URL is the operator's setting only
 * (HUMMDESK_META_GRAPH_URL): the bearer token of a tenant is never sent to an address a tenant chose.
 */
export class GraphClient {
  constructor(
    private readonly opts: { baseUrl?: string; connector: string; timeoutMs?: number; fetch?: typeof fetch },
  ) {}

  get baseUrl(): string {
    return (this.opts.baseUrl ?? DEFAULT_GRAPH_URL).replace(/\/+$/, '');
  }

  /**
   * Bytes from a URL Graph itself answered (a media URL, valid a few minutes), with the same bearer
   * token, as a stream read no further than `maxBytes`: never held whole. Refused or expired, or cut
   * off midway: transient (a retry asks Graph for a fresh URL); more than `maxBytes` (declared in
   * Content-Length or found while reading, which then stops): permanent.
   */
  async download(url: string, token: string, maxBytes: number): Promise<AsyncIterable<Uint8Array>> {
    const { connector } = this.opts;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new TransientError(connector, 'Graph answered a media URL that is not a URL');
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new TransientError(connector, `Graph answered a ${target.protocol} media URL`);
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(target, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 120_000) });
    } catch (err) {
      throw new TransientError(connector, `media download failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new TransientError(connector, `media download answered HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw new PermanentError(connector, `the file has ${declared} bytes, more than the ${maxBytes} kept`, 'attachment_too_large');
    }
    const body = res.body as unknown as AsyncIterable<Uint8Array>;
    return (async function* () {
      let size = 0;
      try {
        // Leaving this loop early (too large, or the reader stopped) cancels the response body.
        for await (const chunk of body) {
          size += chunk.byteLength;
          if (size > maxBytes) throw new PermanentError(connector, `the file is larger than the ${maxBytes} bytes kept`, 'attachment_too_large');
          yield chunk;
        }
      } catch (err) {
        if (err instanceof ConnectorError) throw err;
        throw new TransientError(connector, `media download broke off after ${size} bytes: ${err instanceof Error ? err.message : String(err)}`);
      }
    })();
  }

  /** A multipart POST (media uploads): `fields` as form fields, then the file as `file`. */
  async upload<T = Record<string, unknown>>(req: Omit<GraphRequest, 'method' | 'body'> & { fields: Record<string, string>; file: { name: string; mimeType: string; content: Buffer } }): Promise<T> {
    const form = new FormData();
    for (const [k, v] of Object.entries(req.fields)) form.set(k, v);
    form.set('file', new Blob([new Uint8Array(req.file.content)], { type: req.file.mimeType }), req.file.name);
    return this.call<T>({ ...req, method: 'POST', form });
  }

  async call<T = Record<string, unknown>>(req: GraphRequest & { form?: FormData }): Promise<T> {
    const { connector } = this.opts;
    const version = checkGraphVersion(req.version, connector);
    if (!req.token) throw new AuthError(connector, 'the installation has no access token');
    const url = new URL(`${this.baseUrl}/${version}/${req.path.map(encodeURIComponent).join('/')}`);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method: req.method,
        headers: { authorization: `Bearer ${req.token}`, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: req.form ?? (req.body !== undefined ? JSON.stringify(req.body) : undefined),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new TransientError(connector, `Graph API unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) throw graphError(connector, res.status, (json as { error?: GraphErrorBody } | undefined)?.error, res.headers.get('retry-after'), { installation: req.installation });
    if (json === undefined || typeof json !== 'object') throw new TransientError(connector, `Graph API answered HTTP ${res.status} with a body that is not JSON`);
    return json as T;
  }
}
