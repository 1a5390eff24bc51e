import { defineElement } from '../shared/define.js';
import { HummdeskKbSearch } from './kb-search.component.js';

export { HummdeskKbSearch } from './kb-search.component.js';
export type { KbHit } from './kb-search.component.js';

defineElement('hummdesk-kb-search', HummdeskKbSearch);

declare global {
  interface HTMLElementTagNameMap {
    'hummdesk-kb-search': HummdeskKbSearch;
  }
}
