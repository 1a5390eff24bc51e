import { defineElement } from '../shared/define.js';
import { HummdeskConversation } from './conversation.component.js';

export { HummdeskConversation } from './conversation.component.js';
export type { ReplySentDetail } from './conversation.component.js';

defineElement('hummdesk-conversation', HummdeskConversation);

declare global {
  interface HTMLElementTagNameMap {
    'hummdesk-conversation': HummdeskConversation;
  }
}
