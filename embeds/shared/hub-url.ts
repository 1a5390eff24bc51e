/**
 * Where the hub is when the page does not say: the origin the bundle was loaded from, so the one
 * `<script src="https://hub…/embed/hummdesk-chat.js">` line is all a site needs.
 */
export const SCRIPT_ORIGIN: string = (() => {
  try {
    const url = new URL(import.meta.url);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : '';
  } catch {
    return '';
  }
})();

/** The hub base URL without a trailing slash. */
export const hubBase = (hub: string | undefined): string => (hub || SCRIPT_ORIGIN).replace(/\/+$/, '');
