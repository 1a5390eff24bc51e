import { describe, expect, it } from 'vitest';
import { checkWaWebOutbound, isAnimatedWebp, waWebMediaType } from './limits.js';

const KB = 1024;
const MB = 1024 * KB;
const file = (name: string, mimeType: string, size: number, animated?: boolean) => ({ name, mimeType, size, ...(animated === undefined ? {} : { animated }) });
/** The first bytes of a WebP with an extended header (VP8X); bit 1 of its flags is animation. */
const webpHead = (animated: boolean) => Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8X'), Buffer.alloc(4), Buffer.from([animated ? 0x02 : 0x00]), Buffer.alloc(9)]);

describe('what a linked phone (whatsapp-web.js) takes, by WhatsApp\'s limits per file type', () => {
  it('holds each type to its own limit: image 5 MB, video and audio 16 MB, document 100 MB, sticker 100 KB (500 KB animated)', () => {
    const cases: [ReturnType<typeof file>, number][] = [
      [file('photo.jpg', 'image/jpeg', 0), 5 * MB],
      [file('clip.mp4', 'video/mp4', 0), 16 * MB],
      [file('voice.ogg', 'audio/ogg', 0), 16 * MB],
      [file('manual.pdf', 'application/pdf', 0), 100 * MB],
      [file('wave.webp', 'image/webp', 0, false), 100 * KB],
      [file('dance.webp', 'image/webp', 0, true), 500 * KB],
    ];
    for (const [f, max] of cases) {
      expect(checkWaWebOutbound({ text: '', files: [{ ...f, size: max }] }), f.name).toBeUndefined();
      const refused = checkWaWebOutbound({ text: '', files: [{ ...f, size: max + 1 }] });
      expect(refused, f.name).toMatchObject({ code: 'whatsapp_web_attachment_too_large' });
      expect(refused!.message, f.name).toContain(`"${f.name}"`);
    }
    expect(checkWaWebOutbound({ text: '', files: [file('photo.png', 'image/png', 6 * MB)] })!.message).toContain('image files up to 5 MB');
    expect(checkWaWebOutbound({ text: '', files: [file('wave.webp', 'image/webp', 200 * KB)] })!.message).toContain('stickers (WebP) up to 100 KB');
  });

  it('checks every file before any is sent, and the text and count', () => {
    const ok = file('a.pdf', 'application/pdf', 1);
    expect(checkWaWebOutbound({ text: 'hi', files: [ok, file('big.jpg', 'image/jpeg', 6 * MB)] })).toMatchObject({ code: 'whatsapp_web_attachment_too_large' });
    expect(checkWaWebOutbound({ text: 'hi', files: Array.from({ length: 11 }, () => ok) })).toMatchObject({ code: 'whatsapp_web_too_many_files' });
    expect(checkWaWebOutbound({ text: ' ', files: [] })).toMatchObject({ code: 'whatsapp_web_text_empty' });
    expect(checkWaWebOutbound({ text: 'x'.repeat(65_537), files: [] })).toMatchObject({ code: 'whatsapp_web_text_too_long' });
  });

  it('sends WebP as a sticker and reads whether it is animated from its header', () => {
    expect(waWebMediaType('image/webp')).toBe('sticker');
    expect(waWebMediaType('image/png')).toBe('image');
    expect(waWebMediaType('image/gif')).toBe('document');
    expect(isAnimatedWebp(webpHead(true))).toBe(true);
    expect(isAnimatedWebp(webpHead(false))).toBe(false);
    expect(isAnimatedWebp(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe(false);
  });
});
