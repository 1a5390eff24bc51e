import { LitElement, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import { emit } from './emit.js';
import { hubBase } from './hub-url.js';
import { subscribeHubEvents, type HubStreamEvent, type TypingEvent } from './agent-stream.js';

/** A failed hub call, with the hub's stable error code. */
export class HubApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HubApiError';
  }
}

export interface AuthExpiredDetail {
  /** The tag of the component whose call was refused. */
  source: string;
}

declare global {
  interface GlobalEventHandlersEventMap {
    /** An agent component's embed token was refused (expired): set a fresh `token`. */
    'hummdesk-auth-expired': CustomEvent<AuthExpiredDetail>;
  }
}

/**
 * The base of the agent components: calls the hub's REST API with a short-lived embed token and
 * follows its realtime stream while connected. Subclasses react in `hubEvent`.
 */
export abstract class AgentElement extends LitElement {
  /** Base URL of the hub; defaults to the origin the script was loaded from. */
  @property() hub = '';

  /** Embed token from `POST /api/v1/embed-tokens` (never an API key). */
  @property() token = '';

  private unsubscribe?: () => void;
  private following = '';

  protected get base(): string {
    return hubBase(this.hub);
  }

  /** Calls `/api/v1{path}` with a JSON body, or a file as the raw body (`file`); a 401 fires `hummdesk-auth-expired`. */
  protected async api<T>(path: string, init: { method?: string; body?: unknown; file?: Blob } = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.file) headers['content-type'] = init.file.type || 'application/octet-stream';
    else if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.file ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    if (res.status === 401) emit(this, 'hummdesk-auth-expired', { source: this.localName });
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      throw new HubApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`);
    }
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** A change on the hub (or `resync` after a gap in the stream). */
  protected abstract hubEvent(e: HubStreamEvent): void;

  /** Someone is typing somewhere in the account; only views of one conversation care. */
  protected hubTyping(_e: TypingEvent): void {}

  override connectedCallback(): void {
    super.connectedCallback();
    this.follow();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.following = '';
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (changed.has('token') || changed.has('hub')) this.follow();
  }

  private follow(): void {
    const key = this.token && this.isConnected ? `${this.base} ${this.token}` : '';
    if (key === this.following) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.following = key;
    if (!key) return;
    this.unsubscribe = subscribeHubEvents(this.base, this.token, {
      event: (e) => this.hubEvent(e),
      typing: (e) => this.hubTyping(e),
      refused: () => {
        this.following = '';
        this.unsubscribe = undefined;
        emit(this, 'hummdesk-auth-expired', { source: this.localName });
      },
    });
  }
}
