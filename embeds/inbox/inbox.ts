import { defineElement } from '../shared/define.js';
import { HummdeskInbox } from './inbox.component.js';

export { HummdeskInbox } from './inbox.component.js';

defineElement('hummdesk-inbox', HummdeskInbox);

declare global {
  interface HTMLElementTagNameMap {
    'hummdesk-inbox': HummdeskInbox;
  }
}
