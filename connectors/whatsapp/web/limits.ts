import { whatsappMediaType } from '../outbound.js';

/**
 * What WhatsApp takes through a linked phone, checked before anything is sent (pure: the hub's reply
 * route and the connector run the same check, so a refused reply is never stored and a queued one never
 * half sent). The per-type file limits are WhatsApp's own.
 */

/** Files per reply (each its own WhatsApp message, a second apart). */
export const WA_WEB_MAX_FILES = 10;
export const WA_WEB_MAX_TEXT = 65_536;

/** How a file goes out: WebP is WhatsApp's sticker format; the rest as the Cloud API types them. */
export type WaWebMediaType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

const MB = 1024 * 1024;
const KB = 1024;
/** WhatsApp's limits per type (bytes); an animated sticker may be larger than a still one. */
export const WA_WEB_MEDIA_MAX: Record<WaWebMediaType | 'animatedSticker', number> = {
  image: 5 * MB,
  video: 16 * MB,
  audio: 16 * MB,
  document: 100 * MB,
  sticker: 100 * KB,
  animatedSticker: 500 * KB,
};

/** The largest file of any type (documents). */
export const WA_WEB_MAX_FILE_BYTES = WA_WEB_MEDIA_MAX.document;

export function waWebMediaType(mimeType: string): WaWebMediaType {
  return mimeType.toLowerCase().split(';')[0]!.trim() === 'image/webp' ? 'sticker' : whatsappMediaType(mimeType);
}

/** An animated WebP: an extended header (`VP8X`) with its animation flag set. */
export function isAnimatedWebp(bytes: Uint8Array): boolean {
  return bytes.length >= 21 && Buffer.from(bytes.subarray(12, 16)).toString('latin1') === 'VP8X' && (bytes[20]! & 0x02) !== 0;
}

/** A file as the check sees it; `animated` matters for stickers only (from the file's first bytes). */
export interface WaWebFile {
  name: string;
  mimeType: string;
  size: number;
  animated?: boolean;
}

export interface WaWebRefusal {
  code: string;
  message: string;
}

const mb = (n: number) => (n >= MB ? `${Math.round((n / MB) * 10) / 10} MB` : `${Math.ceil(n / KB)} KB`);

/** The first reason WhatsApp would refuse this reply through a linked phone, or undefined. */
export function checkWaWebOutbound(input: { text: string; files: WaWebFile[] }): WaWebRefusal | undefined {
  const { text, files } = input;
  if (!text.trim() && !files.length) return { code: 'whatsapp_web_text_empty', message: 'a WhatsApp message needs text' };
  const length = [...text].length;
  if (length > WA_WEB_MAX_TEXT) return { code: 'whatsapp_web_text_too_long', message: `WhatsApp takes at most ${WA_WEB_MAX_TEXT} characters; this reply has ${length}` };
  if (files.length > WA_WEB_MAX_FILES) return { code: 'whatsapp_web_too_many_files', message: `a reply through a linked phone takes at most ${WA_WEB_MAX_FILES} files; this one has ${files.length}` };
  for (const f of files) {
    const type = waWebMediaType(f.mimeType);
    const max = type === 'sticker' && f.animated ? WA_WEB_MEDIA_MAX.animatedSticker : WA_WEB_MEDIA_MAX[type];
    if (f.size > max) {
      const what = type === 'sticker' ? `${f.animated ? 'animated ' : ''}stickers (WebP)` : `${type} files`;
      const hint = type === 'sticker' ? '; send a picture as JPEG or PNG' : '';
      return { code: 'whatsapp_web_attachment_too_large', message: `WhatsApp takes ${what} up to ${mb(max)}; "${f.name}" has ${mb(f.size)}${hint}` };
    }
  }
  return undefined;
}
