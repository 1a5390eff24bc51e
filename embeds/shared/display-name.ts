/** Names as the components show them (files, contacts, authors): the hub's own rule, no bidi controls. */
export { displayName } from '../../connectors/core/text.js';
