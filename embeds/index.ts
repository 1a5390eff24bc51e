/** Every HummDesk web component; `/embed/hummdesk.js`. The widget alone is `/embed/hummdesk-chat.js`. */
export * from './chat/chat.js';
export * from './inbox/inbox.js';
export * from './conversation/conversation.js';
export * from './draft/draft.js';
export * from './kb-search/kb-search.js';
export { HubApiError } from './shared/agent-element.js';
export type { AuthExpiredDetail } from './shared/agent-element.js';
