import { ConnectorError } from '../core/errors.js';

/** A webhook body that is not a Meta notification; stable codes, said in one line. */
export class MetaBodyError extends ConnectorError {
  constructor(
    connector: string,
    message: string,
    code: 'webhook_body_bom' | 'webhook_body_invalid' | 'webhook_body_not_meta',
    /** A well-formed notification for another object (Instagram to the Messenger URL, say): not ours, not malformed. */
    readonly otherObject?: string,
  ) {
    super(message, connector, code);
    this.name = 'MetaBodyError';
  }
}

/**
 * The JSON of a verified webhook body. Meta never sends a byte-order mark; a body that starts with
 * one was saved by an editor, and is refused with its own code rather than a JSON parser's riddle.
 */
export function decodeMetaBody(connector: string, raw: Buffer | string): unknown {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) throw new MetaBodyError(connector, 'the body starts with a byte-order mark (U+FEFF); Meta never sends one: save the file without it', 'webhook_body_bom');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MetaBodyError(connector, `the body is not JSON: ${(err as Error).message}`, 'webhook_body_invalid');
  }
}

/** `{ object, entry: [...] }` for the expected `object` (`whatsapp_business_account`, `page`, `instagram`), or a clear error. */
export function metaEntries(connector: string, body: unknown, objects: readonly string[]): { object: string; entry: unknown[] } {
  const b = body as { object?: unknown; entry?: unknown } | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new MetaBodyError(connector, 'the body is not a JSON object, so not a Meta webhook notification', 'webhook_body_not_meta');
  if (typeof b.object !== 'string' || !Array.isArray(b.entry))
    throw new MetaBodyError(connector, 'the body has no "object" and "entry" list, so it is not a Meta webhook notification', 'webhook_body_not_meta');
  if (!objects.includes(b.object)) throw new MetaBodyError(connector, `a webhook for object "${b.object}", not ${objects.map((o) => `"${o}"`).join(' or ')}`, 'webhook_body_not_meta', b.object);
  return { object: b.object, entry: b.entry };
}
