import { describe, expect, it } from 'vitest';
import { checkTemplateAgainst, checkTemplateVariables, checkWhatsAppOutbound, renderTemplateBody, templateBodyParams, templatePart, whatsappMediaType } from './outbound.js';

describe('WhatsApp outbound limits (pure)', () => {
  it('counts and fills template placeholders, positional or named, each once', () => {
    expect(templateBodyParams('Hei {{1}}, tilaus {{2}} — kiitos {{1}}!')).toBe(2);
    expect(templateBodyParams('Hello {{ first_name }}')).toBe(1);
    expect(templateBodyParams('No variables')).toBe(0);
    expect(renderTemplateBody('Hei {{1}}, tilaus {{2}} — kiitos {{1}}!', ['Aino', '#7'])).toBe('Hei Aino, tilaus #7 — kiitos Aino!');
  });

  it('template variables are one line, not empty, at most four spaces in a row and 1,024 characters', () => {
    expect(checkTemplateVariables(['Aino', 'a    b', 'x'.repeat(1024)])).toBeUndefined();
    for (const bad of ['', '  ', 'two\nlines', 'tab\there', 'a     b', 'x'.repeat(1025)])
      expect(checkTemplateVariables(['ok', bad])).toMatchObject({ code: 'whatsapp_template_variable_invalid', message: expect.stringContaining('{{2}}') });
  });

  it('files go out as the type WhatsApp plays, anything else as a document', () => {
    expect(['image/jpeg', 'image/png', 'video/mp4', 'audio/ogg; codecs=opus', 'image/gif', 'application/pdf'].map(whatsappMediaType))
      .toEqual(['image', 'image', 'video', 'audio', 'document', 'document']);
  });

  it('counts characters, not UTF-16 units: 4,096 emoji are within the text limit', () => {
    expect(checkWhatsAppOutbound({ text: '😀'.repeat(4096), attachments: [] })).toBeUndefined();
    expect(checkWhatsAppOutbound({ text: '😀'.repeat(4097), attachments: [] })).toMatchObject({ code: 'whatsapp_text_too_long' });
    expect(checkWhatsAppOutbound({ text: 'b', attachments: [], rich: { buttons: [{ id: 'a', title: 'Sama' }, { id: 'b', title: 'Sama' }] } })).toMatchObject({ code: 'whatsapp_interactive_invalid' });
    expect(checkWhatsAppOutbound({ text: '', attachments: [], rich: { reaction: { externalId: '', emoji: '👍' } } })).toMatchObject({ code: 'whatsapp_reaction_target_unknown' });
  });

  describe('template parameters against the synced components', () => {
    // As Graph lists them (GET /{waba-id}/message_templates).
    const shipped = [
      { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
      { type: 'BODY', text: 'Hi {{1}}, it shipped.' },
      { type: 'FOOTER', text: 'Acme' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Thanks' }, { type: 'URL', text: 'Track', url: 'https://t.example/{{1}}' }, { type: 'URL', text: 'Shop', url: 'https://shop.example' }, { type: 'PHONE_NUMBER', text: 'Call', phone_number: '+358' }] },
    ];
    const ok = { variables: ['Aino'], header: { type: 'text' as const, text: '#42' }, buttons: [{ index: 1, subType: 'url' as const, text: '42' }] };
    const code = (components: unknown[], t: Parameters<typeof checkTemplateAgainst>[1]) => checkTemplateAgainst(components, t)?.code;

    it('accepts what the template takes: the header variable, the dynamic link suffix, an optional quick-reply payload', () => {
      expect(checkTemplateAgainst(shipped, ok)).toBeUndefined();
      expect(checkTemplateAgainst(shipped, { ...ok, buttons: [...ok.buttons, { index: 0, subType: 'quick_reply', payload: 'thanks' }] })).toBeUndefined();
      expect(checkTemplateAgainst([{ type: 'HEADER', format: 'IMAGE' }, { type: 'BODY', text: 'x' }], { variables: [], header: { type: 'image' } })).toBeUndefined();
    });

    it('refuses a mismatch with its code', () => {
      expect(checkTemplateAgainst(shipped, { ...ok, variables: [] })).toMatchObject({ code: 'whatsapp_template_params_mismatch', expected: 1 });
      expect(code(shipped, { ...ok, header: undefined })).toBe('whatsapp_template_header_missing');
      expect(code(shipped, { ...ok, header: { type: 'image' } })).toBe('whatsapp_template_header_format');
      expect(code([{ type: 'HEADER', format: 'TEXT', text: 'Fixed' }, { type: 'BODY', text: 'x' }], { variables: [], header: { type: 'text', text: 'y' } })).toBe('whatsapp_template_header_unexpected');
      expect(code([{ type: 'BODY', text: 'x' }], { variables: [], header: { type: 'document' } })).toBe('whatsapp_template_header_unexpected');
      expect(code([{ type: 'HEADER', format: 'VIDEO' }, { type: 'BODY', text: 'x' }], { variables: [] })).toBe('whatsapp_template_header_missing');
      expect(code([{ type: 'HEADER', format: 'VIDEO' }, { type: 'BODY', text: 'x' }], { variables: [], header: { type: 'image' } })).toBe('whatsapp_template_header_format');
      expect(code([{ type: 'HEADER', format: 'LOCATION' }, { type: 'BODY', text: 'x' }], { variables: [] })).toBe('whatsapp_template_unsupported');
      expect(code(shipped, { ...ok, buttons: [] })).toBe('whatsapp_template_button_missing');
      expect(code(shipped, { ...ok, buttons: [...ok.buttons, { index: 2, subType: 'url', text: 'x' }] })).toBe('whatsapp_template_button_mismatch');
      expect(code(shipped, { ...ok, buttons: [...ok.buttons, { index: 3, subType: 'quick_reply', payload: 'x' }] })).toBe('whatsapp_template_button_mismatch');
      expect(code(shipped, { ...ok, buttons: [...ok.buttons, { index: 7, subType: 'quick_reply', payload: 'x' }] })).toBe('whatsapp_template_button_mismatch');
      expect(code([{ type: 'BODY', text: 'x' }, { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE', text: 'Copy' }] }], { variables: [] })).toBe('whatsapp_template_unsupported');
    });

    it('checks header and button values, and a template carries a file only as its media header', () => {
      const send = (t: Parameters<typeof checkTemplateAgainst>[1], files: { name: string; mimeType: string; size: number }[] = []) =>
        checkWhatsAppOutbound({ text: 'x', attachments: files, rich: { template: { name: 'n', language: 'en', ...t } } })?.code;
      expect(send({ variables: [], header: { type: 'text', text: 'x'.repeat(61) } })).toBe('whatsapp_template_variable_invalid');
      expect(send({ variables: [], header: { type: 'text', text: 'two\nlines' } })).toBe('whatsapp_template_variable_invalid');
      expect(send({ variables: [], buttons: [{ index: 0, subType: 'url', text: 'a b' }] })).toBe('whatsapp_template_variable_invalid');
      expect(send({ variables: [], buttons: [{ index: 0, subType: 'quick_reply', payload: '' }] })).toBe('whatsapp_template_variable_invalid');
      expect(send({ variables: [], buttons: [{ index: 0, subType: 'quick_reply', payload: 'a' }, { index: 0, subType: 'quick_reply', payload: 'b' }] })).toBe('whatsapp_template_button_mismatch');
      expect(send({ variables: [] }, [{ name: 'a.pdf', mimeType: 'application/pdf', size: 10 }])).toBe('whatsapp_template_header_unexpected');
      expect(send({ variables: [], header: { type: 'image' } })).toBe('whatsapp_template_header_missing');
      expect(send({ variables: [], header: { type: 'image' } }, [{ name: 'a.gif', mimeType: 'image/gif', size: 10 }])).toBe('whatsapp_template_header_format');
      expect(send({ variables: [], header: { type: 'image' } }, [{ name: 'a.png', mimeType: 'image/png', size: 6 * 1024 * 1024 }])).toBe('whatsapp_attachment_too_large');
      expect(send({ variables: [], header: { type: 'document' } }, [{ name: 'a.pdf', mimeType: 'application/pdf', size: 10 }])).toBeUndefined();
    });

    it('goes out in Graph\'s shape: header, body, then buttons by index (as strings), a media header by its uploaded id', () => {
      expect(templatePart({ name: 'shipped', language: 'en_US', ...ok, buttons: [ok.buttons[0]!, { index: 0, subType: 'quick_reply', payload: 'p' }] })).toEqual({
        name: 'shipped', language: { code: 'en_US' },
        components: [
          { type: 'header', parameters: [{ type: 'text', text: '#42' }] },
          { type: 'body', parameters: [{ type: 'text', text: 'Aino' }] },
          { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'p' }] },
          { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: '42' }] },
        ],
      });
      expect(templatePart({ name: 'r', language: 'fi', variables: [], header: { type: 'document' } }, { id: 'MEDIA1', filename: 'kuitti.pdf' })).toEqual({
        name: 'r', language: { code: 'fi' }, components: [{ type: 'header', parameters: [{ type: 'document', document: { id: 'MEDIA1', filename: 'kuitti.pdf' } }] }],
      });
      expect(templatePart({ name: 'plain', language: 'fi', variables: [] })).toEqual({ name: 'plain', language: { code: 'fi' } });
    });
  });
});
