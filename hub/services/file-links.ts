import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { displayName } from '../../connectors/core/text.js';
import { deriveKey } from '../../storage/secret-box.js';

/**
 * Signed links to a conversation's files, so an `<img>` or a download link works without the agent's
 * bearer token (which a browser cannot attach to either). A link names the account, conversation and
 * attachment, expires, and is an HMAC under a key derived from the hub's secret key: it opens that one
 * file and nothing else.
 */
export interface FileRef { accountId: string; conversationId: string; attachmentId: string }

const HOUR_S = 3600;

function signature(secretKey: Buffer, ref: FileRef, exp: number): string {
  return createHmac('sha256', deriveKey(secretKey, 'file-links'))
    .update(`${ref.accountId}/${ref.conversationId}/${ref.attachmentId}/${exp}`)
    .digest('base64url');
}

/**
 * A link valid for one to two hours: the expiry is rounded up to the hour, so one file's link stays the
 * same for an hour and the browser's cache serves it.
 */
export function fileLink(secretKey: Buffer, ref: FileRef, now = Date.now()): string {
  const exp = (Math.floor(now / 1000 / HOUR_S) + 2) * HOUR_S;
  return `/files/${ref.accountId}/${ref.conversationId}/${ref.attachmentId}?exp=${exp}&sig=${signature(secretKey, ref, exp)}`;
}

export type LinkCheck = 'ok' | 'expired' | 'invalid';

export function checkFileLink(secretKey: Buffer, ref: FileRef, exp: number, sig: string, now = Date.now()): LinkCheck {
  const expected = Buffer.from(signature(secretKey, ref, exp));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return exp * 1000 < now ? 'expired' : 'ok';
}

/** A stored MIME type as a header value; anything odd (parameters, stray bytes) becomes a plain download. */
export function safeMimeType(mime: string | null): string {
  const t = (mime ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/u.test(t) ? t : 'application/octet-stream';
}

/** `attachment` with an ASCII fallback name and the exact name in RFC 5987 form; no quote, CR or LF gets through. */
export function contentDisposition(name: string | null): string {
  const exact = displayName(name ?? '').replace(/[\u0000-\u001f\u007f/\\]/gu, '_').trim() || 'attachment';
  const ascii = exact.replace(/[^\x20-\x7e]/gu, '_').replace(/["%;]/gu, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(exact).replace(/['()*]/gu, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** Never rendered as a page of ours: a download, sniffing off, and a sandbox for HTML or SVG opened directly. */
export function sendAttachment(reply: FastifyReply, attachment: { name: string | null; mimeType: string | null }, bytes: Buffer, maxAgeS: number) {
  return reply
    .type(safeMimeType(attachment.mimeType))
    .header('content-disposition', contentDisposition(attachment.name))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    // Another site may show the image (an agent component embedded elsewhere), never read it by script.
    .header('cross-origin-resource-policy', 'cross-origin')
    .header('cache-control', `private, max-age=${Math.max(0, maxAgeS)}`)
    .send(bytes);
}
