import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { AgentElement } from '../shared/agent-element.js';
import type { HubStreamEvent } from '../shared/agent-stream.js';
import { emit } from '../shared/emit.js';
import { safeHttpUrl } from '../shared/safe-url.js';
import type { ConversationDetail, DraftNoteView, DraftView, MessageView } from '../shared/types.js';
import { draftStyles } from './draft.styles.js';

export type DraftDecision = 'accepted' | 'edited' | 'rejected';

export interface DraftDecidedDetail {
  conversationId: string;
  draftId: string;
  decision: DraftDecision;
  /** The reply that was sent (accepted or edited). */
  messageId?: string;
}

declare global {
  interface GlobalEventHandlersEventMap {
    /** An agent accepted, edited or rejected the AI draft in `<hummdesk-draft>`. */
    'hummdesk-draft-decided': CustomEvent<DraftDecidedDetail>;
  }
}

/**
 * The AI drafts for a conversation with the knowledge-base passages each cites: when the AI proposed
 * alternatives, a radio group picks the one shown ("Draft 1 of 3"); accept (send as is), edit (send
 * changed) or reject act on that one. The decision feeds the AI's learning loop.
 *
 * @fires hummdesk-draft-decided - `detail.decision`: accepted, edited or rejected
 * @fires hummdesk-auth-expired - the embed token was refused; set a fresh `token`
 *
 * @csspart draft - the proposed text
 * @csspart alternatives - the radio group that picks among alternative drafts
 * @csspart actions - the accept / edit / reject buttons
 *
 * @tag hummdesk-draft
 */
export class HummdeskDraft extends AgentElement {
  static override styles = draftStyles;

  /** The conversation whose open drafts are shown. */
  @property({ attribute: 'conversation-id' }) conversationId = '';

  /** The open proposals, first choice first. */
  @state() private drafts: DraftView[] = [];
  @state() private selected = 0;
  @state() private editing = false;
  @state() private busy = false;
  @state() private error = '';
  @state() private loaded = false;
  /** Why the latest analysis drafted what it did, or nothing. */
  @state() private note?: DraftNoteView;
  @query('textarea') private textarea?: HTMLTextAreaElement;
  private loadSeq = 0;

  /** Reloads the conversation's drafts now. */
  async reload(): Promise<void> {
    const id = this.conversationId;
    if (!this.token || !id) return;
    const seq = ++this.loadSeq;
    try {
      const d = await this.api<ConversationDetail>(`/conversations/${encodeURIComponent(id)}`);
      if (seq !== this.loadSeq) return;
      // The hub lists drafts newest first, an analysis's alternatives in its order.
      const open = d.drafts.filter((x) => x.status === 'proposed');
      const shown = this.draft?.id;
      const keep = open.findIndex((x) => x.id === shown);
      if (keep < 0) this.editing = false;
      this.drafts = open;
      this.note = d.ai?.evidence?.draft;
      this.selected = Math.max(0, keep);
      this.loaded = true;
      this.error = '';
    } catch (err) {
      if (seq === this.loadSeq) this.error = (err as Error).message;
    }
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('conversationId')) {
      this.drafts = [];
      this.selected = 0;
      this.editing = false;
      this.loaded = false;
    }
    if (changed.has('conversationId') || changed.has('token')) void this.reload();
  }

  protected hubEvent(e: HubStreamEvent): void {
    if (e.type === 'resync' || (e.conversationId === this.conversationId && (e.type === 'draft.created' || e.type === 'message.created' || e.type === 'conversation.updated'))) void this.reload();
  }

  private async decide(decision: DraftDecision): Promise<void> {
    const draft = this.draft;
    if (!draft || this.busy) return;
    const conv = encodeURIComponent(this.conversationId);
    this.busy = true;
    try {
      let messageId: string | undefined;
      if (decision === 'rejected') {
        await this.api(`/conversations/${conv}/drafts/${encodeURIComponent(draft.id)}/reject`, { method: 'POST' });
      } else {
        const text = decision === 'edited' ? (this.textarea?.value ?? '') : draft.text;
        if (!text.trim()) return;
        // The hub marks the draft accepted or edited by comparing the sent text with the draft.
        messageId = (await this.api<MessageView>(`/conversations/${conv}/reply`, { method: 'POST', body: { text, draftId: draft.id } })).id;
      }
      // Sending one alternative supersedes the others; rejecting one leaves the rest to choose from.
      this.drafts = decision === 'rejected' ? this.drafts.filter((x) => x.id !== draft.id) : [];
      this.selected = 0;
      this.editing = false;
      this.error = '';
      emit(this, 'hummdesk-draft-decided', { conversationId: this.conversationId, draftId: draft.id, decision, ...(messageId ? { messageId } : {}) });
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  private get draft(): DraftView | undefined {
    return this.drafts[this.selected];
  }

  private select(i: number): void {
    this.selected = i;
    this.editing = false;
  }

  private async startEditing(): Promise<void> {
    this.editing = true;
    await this.updateComplete;
    this.textarea?.focus();
  }

  protected override render() {
    const d = this.draft;
    if (!this.conversationId) return nothing;
    if (!d) return html`<h3>AI draft</h3><p class="empty">${this.loaded ? noDraftText(this.note) : 'Loading…'}</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}`;
    return html`
      <section aria-labelledby="draft-title">
        <h3 id="draft-title">AI draft <span class="badge">${d.extractive ? 'from the knowledge base' : 'generated'}</span></h3>
        ${this.drafts.length > 1 ? html`<fieldset class="alternatives" part="alternatives">
          <legend class="sr-only">Alternative drafts</legend>
          ${this.drafts.map((x, i) => html`<label><input type="radio" name="alternative" .checked=${i === this.selected} ?disabled=${this.busy}
            @change=${() => this.select(i)}> Draft ${i + 1} of ${this.drafts.length}</label>`)}
        </fieldset>` : nothing}
        ${this.note?.suggestion && !d.citations.length ? html`<p class="honest suggestion">${suggestionText(this.note.suggestion)}</p>` : nothing}
        ${d.extractive ? html`<p class="honest">Assembled from knowledge-base passages and templates, not written by a language model. Check it before sending.</p>` : nothing}
        ${this.editing
          ? html`<label class="sr-only" for="edit">Edit the draft</label><textarea id="edit" .value=${d.text}></textarea>`
          : html`<p class="text" part="draft">${d.text}</p>`}
        ${d.citations.length ? html`<ol class="citations" aria-label="Sources">
          ${d.citations.map((c) => {
            const href = safeHttpUrl(c.url);
            return html`<li>${href ? html`<a href=${href} target="_blank" rel="noopener noreferrer">${c.title ?? href}</a>` : c.title ?? 'Article'}
              ${c.excerpt ? html`<span class="excerpt">${c.excerpt}</span>` : nothing}</li>`;
          })}
        </ol>` : nothing}
        <div class="actions" part="actions">
          ${this.editing
            ? html`<button type="button" class="send-edited" ?disabled=${this.busy} @click=${() => void this.decide('edited')}>Send edited</button>
                <button type="button" class="secondary" ?disabled=${this.busy} @click=${() => (this.editing = false)}>Cancel</button>`
            : html`<button type="button" class="accept" ?disabled=${this.busy} @click=${() => void this.decide('accepted')}>Accept and send</button>
                <button type="button" class="secondary edit" ?disabled=${this.busy} @click=${() => void this.startEditing()}>Edit</button>
                <button type="button" class="secondary reject" ?disabled=${this.busy} @click=${() => void this.decide('rejected')}>Reject</button>`}
        </div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      </section>`;
  }
}

/** What the agent is told when the AI proposes nothing (reasons: ai/draft/compose.ts DraftNote). */
function noDraftText(note: DraftNoteView | undefined): string {
  if (note?.reason === 'language_not_supported') return `No draft: offline drafts are not written in this customer's language (${note.language}).`;
  if (note?.reason === 'language_unknown') return "No draft: the customer's language could not be told.";
  return 'No draft for this conversation.';
}

/** Tells the agent (never the customer) which article in which language would fit. */
function suggestionText(s: NonNullable<DraftNoteView['suggestion']>): string {
  return `No article in the customer's language answers this; "${s.title}" (${s.language})${s.confidence === 'low' ? ' may' : ''} fit. The draft is a holding reply.`;
}
