import type { AttachmentKind } from '../core/types.js';
import { displayName } from '../core/text.js';

/**
 * What a visitor may upload to a web chat channel. Types are an allow-list checked against the
 * file's first bytes too, so a script renamed `.png` is refused; SVG and HTML are never allowed
 * because a browser would run script inside them.
 */

export const DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
/** The largest limit a channel may configure; also the route's body limit. */
export const UPLOAD_MAX_BYTES_CEILING = 50 * 1024 * 1024;
export const MAX_UPLOAD_NAME_LENGTH = 255;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

const startsWith = (bytes: Buffer, ...sig: number[]) => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);

/** Each allowed type and how its bytes must begin. */
const SNIFFERS: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => startsWith(b, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
  'image/jpeg': (b) => startsWith(b, 0xff, 0xd8, 0xff),
  'image/gif': (b) => b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a',
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'text/plain': isText,
  'text/csv': isText,
};

export const DEFAULT_UPLOAD_TYPES = Object.keys(SNIFFERS);

export interface UploadPolicy {
  maxBytes: number;
  types: string[];
}

export class UploadRejected extends Error {
  constructor(
    readonly code: 'upload_type_not_allowed' | 'upload_content_mismatch' | 'upload_too_large' | 'upload_empty' | 'upload_name_invalid',
    message: string,
    readonly status: 400 | 413 | 415,
  ) {
    super(message);
    this.name = 'UploadRejected';
  }
}

/**
 * The channel's policy from `config.uploads`: `{ maxBytes?, types? }`. A channel may narrow the
 * allowed types and raise or lower the size, never add a type outside the safe list.
 */
export function uploadPolicy(config: Record<string, unknown>): UploadPolicy {
  const raw = (config.uploads ?? {}) as { maxBytes?: unknown; types?: unknown };
  const maxBytes = typeof raw.maxBytes === 'number' && Number.isInteger(raw.maxBytes) && raw.maxBytes > 0 ? Math.min(raw.maxBytes, UPLOAD_MAX_BYTES_CEILING) : DEFAULT_UPLOAD_MAX_BYTES;
  const types = Array.isArray(raw.types) ? raw.types.filter((t): t is string => typeof t === 'string' && t in SNIFFERS) : DEFAULT_UPLOAD_TYPES;
  return { maxBytes, types };
}

/** The bare media type of a Content-Type header, lower case. */
export const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** Checks a declared size before the body is read. */
export function checkUploadSize(policy: UploadPolicy, size: number): void {
  if (size > policy.maxBytes) throw new UploadRejected('upload_too_large', `files may be at most ${policy.maxBytes} bytes`, 413);
}

/** Checks an upload completely; returns the name to store (control characters and path parts removed). */
export function checkUpload(policy: UploadPolicy, file: { name: string; mimeType: string; bytes: Buffer }): { name: string; kind: AttachmentKind } {
  if (!policy.types.includes(file.mimeType)) throw new UploadRejected('upload_type_not_allowed', `files of type ${file.mimeType || 'unknown'} are not accepted`, 415);
  if (file.bytes.length === 0) throw new UploadRejected('upload_empty', 'the file is empty', 400);
  checkUploadSize(policy, file.bytes.length);
  if (!SNIFFERS[file.mimeType]!(file.bytes)) throw new UploadRejected('upload_content_mismatch', `the file's content is not ${file.mimeType}`, 415);
  // The name is shown to agents and in downloads: no control or bidi characters, no directories.
  const name = displayName(file.name).replace(/[\u0000-\u001f\u007f]/gu, '').split(/[\\/]/u).pop()!.trim();
  if (!name || name.length > MAX_UPLOAD_NAME_LENGTH) throw new UploadRejected('upload_name_invalid', `a file name needs 1–${MAX_UPLOAD_NAME_LENGTH} characters`, 400);
  return { name, kind: file.mimeType.startsWith('image/') ? 'image' : 'file' };
}

function isText(b: Buffer): boolean {
  if (b.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
