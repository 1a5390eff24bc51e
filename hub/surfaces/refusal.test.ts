import { describe, expect, it } from 'vitest';
import { HubError } from '../errors.js';
import { plainRefusal, templatesOffered } from './refusal.js';

describe('a refused reply, as a surface tells the agent', () => {
  const url = 'https://hub.example/c/1';

  it('offers the approved templates a closed WhatsApp window leaves', () => {
    const err = new HubError(400, 'whatsapp_window_closed', 'the customer last wrote more than 24 hours ago', { templates: [{ name: 'order_update', language: 'fi' }, { bogus: 1 }] });
    expect(templatesOffered(err)).toEqual([{ name: 'order_update', language: 'fi' }]);
    expect(plainRefusal(err, url)).toBe(
      `Nothing was sent: the customer last wrote more than 24 hours ago\nApproved templates you can send instead, from HummDesk (${url}): order_update (fi).`,
    );
  });

  it('says so when the number has no approved template', () => {
    const err = new HubError(400, 'whatsapp_window_closed', 'window closed', { templates: [] });
    expect(plainRefusal(err, url)).toMatch(/no approved template to send instead/);
  });

  it('offers nothing for other refusals', () => {
    const err = new HubError(400, 'messenger_window_closed', 'the Messenger window closed');
    expect(templatesOffered(err)).toBeUndefined();
    expect(plainRefusal(err, url)).toBe('Nothing was sent: the Messenger window closed');
  });
});
