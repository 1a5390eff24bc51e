import { defineElement } from '../shared/define.js';
import { HummdeskDraft } from './draft.component.js';

export { HummdeskDraft } from './draft.component.js';
export type { DraftDecidedDetail, DraftDecision } from './draft.component.js';

defineElement('hummdesk-draft', HummdeskDraft);

declare global {
  interface HTMLElementTagNameMap {
    'hummdesk-draft': HummdeskDraft;
  }
}
