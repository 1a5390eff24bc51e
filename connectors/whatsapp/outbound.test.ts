import { describe, expect, it } from 'vitest';
import { checkTemplateVariables, checkWhatsAppOutbound, renderTemplateBody, templateBodyParams, whatsappMediaType } from './outbound.js';

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
});
