import { defineElement } from '../shared/define.js';
import { HummdeskChat } from './chat.component.js';

export { HummdeskChat } from './chat.component.js';
export type { ChatMessageSentDetail, ConnectionState, PublicMessage } from './chat.component.js';

defineElement('hummdesk-chat', HummdeskChat);

declare global {
  interface HTMLElementTagNameMap {
    'hummdesk-chat': HummdeskChat;
  }
}
