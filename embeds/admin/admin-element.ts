import { LitElement } from 'lit';
import { property } from 'lit/decorators.js';
import { emit } from '../shared/emit.js';
import { hubBase } from '../shared/hub-url.js';
import { HubApiError } from '../shared/agent-element.js';

/**
 * The base of the admin console's screens: calls the hub's REST API with the signed-in admin's access
 * token. Settings routes refuse embed tokens on purpose (an agent tool's embed token must never change
 * an account), so the page hands these components a short-lived access token and a fresh one when
 * `hummdesk-auth-expired` fires. Unlike the desk's components they follow no realtime stream.
 */
export abstract class AdminElement extends LitElement {
  /** Base URL of the hub; defaults to the origin the script was loaded from. */
  @property() hub = '';

  /** An admin's or owner's access token (`POST /api/v1/auth/login`); never an API key in a page. */
  @property() token = '';

  protected get base(): string {
    return hubBase(this.hub);
  }

  /** Calls `{path}` on the hub (`/api/v1/…` or `/slack/…`); a 401 fires `hummdesk-auth-expired`. */
  protected async request<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: init.method ?? 'GET',
        headers,
        // Same-origin cookies: "Add to Slack" ties its install to this browser with one.
        credentials: 'same-origin',
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch {
      throw new HubApiError(0, 'network_error', 'the hub could not be reached; nothing was changed');
    }
    if (res.status === 401) emit(this, 'hummdesk-auth-expired', { source: this.localName });
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      throw new HubApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`);
    }
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** Calls `/api/v1{path}`. */
  protected api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    return this.request<T>(`/api/v1${path}`, init);
  }
}

/** What a failed call shows: the hub's words and its stable code. */
export interface Failure {
  code: string;
  message: string;
}

export const failureOf = (err: unknown): Failure =>
  err instanceof HubApiError ? { code: err.code, message: err.message } : { code: 'unexpected', message: err instanceof Error ? err.message : String(err) };
