import DOMPurify from 'dompurify';

let hooked = false;

/**
 * Customer and email HTML made safe to render: DOMPurify strips scripts, event handlers and
 * `javascript:` URLs; links open in a new tab without access to this page.
 */
export function sanitizeHtml(dirty: string): string {
  if (!hooked) {
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      // Email images rarely say what they show; an empty alt keeps screen readers from reading URLs.
      if (node.tagName === 'IMG' && !node.hasAttribute('alt')) node.setAttribute('alt', '');
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    });
    hooked = true;
  }
  return DOMPurify.sanitize(dirty, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
    FORBID_ATTR: ['style'],
    ALLOW_DATA_ATTR: false,
  });
}
