import { html, nothing, type ReactiveControllerHost } from 'lit';
import { HubApiError } from '../shared/agent-element.js';
import { displayName } from '../shared/display-name.js';

/** What the composer's files need from the conversation view that hosts them. */
export interface FilesHost extends ReactiveControllerHost, HTMLElement {
  hubApi<T>(path: string, init?: { method?: string; body?: unknown; file?: Blob }): Promise<T>;
}

/** A file in the composer: uploading, uploaded (its id goes with the reply), or refused with the hub's reason. */
export interface StagedFile {
  key: string;
  name: string;
  size: number;
  mimeType: string;
  state: 'uploading' | 'ready' | 'failed';
  /** The upload's id once stored on the hub. */
  id?: string;
  error?: { code: string; message: string };
  /** A data: URL of a small image, for its preview (the hub's page allows no blob: images). */
  preview?: string;
}

/** At most this many files go with one reply (the hub's limit). */
export const MAX_FILES = 10;
const PREVIEW_MAX_BYTES = 5 * 1024 * 1024;

const sizeText = (n: number) => (n < 1024 * 1024 ? `${Math.max(1, Math.ceil(n / 1024))} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** A pasted image has no name; give it one the customer can read. */
export function pastedName(type: string, now = new Date()): string {
  const ext = type.split('/')[1]?.replace('jpeg', 'jpg') ?? 'png';
  const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return `pasted-image-${stamp}.${ext}`;
}

/**
 * The reply composer's attachments: chosen with the file picker, dropped on the composer or pasted
 * (images), each uploaded to the hub at once (`POST /conversations/:id/uploads`, which checks type and
 * size and answers with a stable code), kept per conversation until the reply that carries them is sent.
 */
export class ComposerFiles {
  private readonly byConversation = new Map<string, StagedFile[]>();
  private seq = 0;

  constructor(private readonly host: FilesHost) {}

  staged(conversationId: string): StagedFile[] {
    return this.byConversation.get(conversationId) ?? [];
  }

  /** Uploads still running: the reply waits for them. */
  uploading(conversationId: string): boolean {
    return this.staged(conversationId).some((f) => f.state === 'uploading');
  }

  readyIds(conversationId: string): string[] {
    return this.staged(conversationId).filter((f) => f.state === 'ready').map((f) => f.id!);
  }

  /** After the reply went: its files are the message's now. */
  clear(conversationId: string): void {
    this.byConversation.delete(conversationId);
    this.host.requestUpdate();
  }

  remove(conversationId: string, key: string): void {
    this.set(conversationId, this.staged(conversationId).filter((f) => f.key !== key));
  }

  add(conversationId: string, files: File[]): void {
    const room = MAX_FILES - this.staged(conversationId).length;
    for (const [i, file] of files.entries()) {
      const staged: StagedFile = { key: `f${++this.seq}`, name: file.name, size: file.size, mimeType: file.type, state: 'uploading' };
      if (i >= room) {
        staged.state = 'failed';
        staged.error = { code: 'too_many_files', message: `a reply takes at most ${MAX_FILES} files` };
      }
      this.set(conversationId, [...this.staged(conversationId), staged]);
      if (staged.state === 'uploading') void this.upload(conversationId, staged.key, file);
    }
  }

  private set(conversationId: string, files: StagedFile[]): void {
    if (files.length) this.byConversation.set(conversationId, files);
    else this.byConversation.delete(conversationId);
    this.host.requestUpdate();
  }

  private patch(conversationId: string, key: string, patch: Partial<StagedFile>): void {
    const files = this.staged(conversationId);
    if (!files.some((f) => f.key === key)) return; // removed meanwhile
    this.set(conversationId, files.map((f) => (f.key === key ? { ...f, ...patch } : f)));
  }

  private async upload(conversationId: string, key: string, file: File): Promise<void> {
    if (/^image\/(png|jpeg|gif|webp)$/.test(file.type) && file.size <= PREVIEW_MAX_BYTES) {
      const reader = new FileReader();
      reader.onload = () => this.patch(conversationId, key, { preview: String(reader.result) });
      reader.readAsDataURL(file);
    }
    try {
      const stored = await this.host.hubApi<{ id: string; name: string }>(
        `/conversations/${encodeURIComponent(conversationId)}/uploads?name=${encodeURIComponent(file.name)}`,
        { method: 'POST', file },
      );
      this.patch(conversationId, key, { state: 'ready', id: stored.id, name: stored.name });
    } catch (err) {
      const error = err instanceof HubApiError ? { code: err.code, message: err.message } : { code: 'network_error', message: 'the file could not be uploaded' };
      this.patch(conversationId, key, { state: 'failed', error });
    }
  }

  render(conversationId: string) {
    const files = this.staged(conversationId);
    if (!files.length) return nothing;
    return html`<ul class="staged" part="staged-files" aria-label="Files for this reply">
      ${files.map((f) => html`<li class=${f.state} data-state=${f.state} data-name=${f.name}>
        ${f.preview ? html`<img src=${f.preview} alt="">` : nothing}
        <span class="name" dir="auto">${displayName(f.name) || 'file'}</span>
        <span class="muted">${sizeText(f.size)}${f.state === 'uploading' ? ' · uploading…' : ''}</span>
        ${f.error ? html`<span class="file-error" role="alert" data-code=${f.error.code}>${f.error.message} <code>${f.error.code}</code></span>` : nothing}
        <button type="button" class="unstage" aria-label=${`Remove ${displayName(f.name) || 'file'}`} @click=${() => this.remove(conversationId, f.key)}>×</button>
      </li>`)}
    </ul>`;
  }
}
