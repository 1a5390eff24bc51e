import { describe, expect, it } from 'vitest';
import { DEFAULT_UPLOAD_MAX_BYTES, UPLOAD_MAX_BYTES_CEILING, UploadRejected, checkUpload, uploadPolicy } from './uploads.js';

describe('web chat upload policy', () => {
  it('defaults to 10 MB and the safe types, and lets a channel narrow them but never add one', () => {
    expect(uploadPolicy({})).toMatchObject({ maxBytes: DEFAULT_UPLOAD_MAX_BYTES });
    expect(uploadPolicy({}).types).toEqual(expect.arrayContaining(['image/png', 'image/jpeg', 'application/pdf', 'text/plain']));
    expect(uploadPolicy({ uploads: { maxBytes: 1e12, types: ['text/plain', 'text/html', 'image/svg+xml'] } })).toEqual({ maxBytes: UPLOAD_MAX_BYTES_CEILING, types: ['text/plain'] });
  });

  it('checks the bytes against the declared type', () => {
    const policy = uploadPolicy({});
    expect(checkUpload(policy, { name: 'a.gif', mimeType: 'image/gif', bytes: Buffer.from('GIF89a....') })).toEqual({ name: 'a.gif', kind: 'image' });
    expect(() => checkUpload(policy, { name: 'a.pdf', mimeType: 'application/pdf', bytes: Buffer.from('<html>') })).toThrow(UploadRejected);
  });
});
