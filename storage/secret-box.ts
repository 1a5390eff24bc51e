import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** AES-256-GCM for channel secrets at rest: `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
export class SecretBox {
  private readonly key: Buffer;
  constructor(masterKey: Buffer) {
    checkMasterKey(masterKey);
    // A derived key, so the same master key can also sign tokens without key reuse across purposes.
    this.key = createHmac('sha256', masterKey).update('hummdesk:secrets:v1').digest();
  }

  seal(secrets: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string | null | undefined): Record<string, string> {
    if (!sealed) return {};
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unrecognised sealed secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Record<string, string>;
  }
}

/** A key derived from the master key for one purpose (JWT signing, webchat visitor tokens). */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  checkMasterKey(masterKey);
  return createHmac('sha256', masterKey).update(`hummdesk:${purpose}`).digest();
}

// A short or empty key would make sealed secrets and signed tokens as good as public: refuse it, whoever passes it.
function checkMasterKey(masterKey: Buffer): void {
  if (masterKey.length !== 32) throw new Error(`the master key must be 32 bytes, got ${masterKey.length}`);
}
