import { ConnectorError } from '../core/errors.js';
import { decodeMetaBody } from './body.js';

/** One webhook body found in a file: the whole file, or one named member of a fixture collection. */
export interface MetaCase {
  /** `file` or `file#name`. */
  id: string;
  body?: unknown;
  /** Why this is not a body we can parse (byte-order mark, not JSON, not a Meta notification). */
  error?: { code: string; message: string };
}

/**
 * The webhook bodies in a file's bytes. A file is either one body (`{ "object": …, "entry": […] }`) or,
 * as in the shared fixture sets, an object of named bodies; a named member that is not a body (a bot
 * name, an id) is a case of its own with a clear error, never a silent skip.
 */
export function metaCases(id: string, raw: Buffer): MetaCase[] {
  let json: unknown;
  try {
    json = decodeMetaBody('meta', raw);
  } catch (err) {
    return [{ id, error: errorOf(err) }];
  }
  if (isBody(json)) return [{ id, body: json }];
  // A file none of whose members is a body (a Bot Framework Activity, a list) is one case, not one per field.
  if (!json || typeof json !== 'object' || Array.isArray(json) || !Object.values(json).some(isBody))
    return [{ id, error: { code: 'webhook_body_not_meta', message: 'neither a Meta webhook body ({ object, entry }) nor an object of named bodies' } }];
  return Object.entries(json).map(([name, value]) =>
    isBody(value)
      ? { id: `${id}#${name}`, body: value }
      : { id: `${id}#${name}`, error: { code: 'webhook_body_not_meta', message: `"${name}" is not a Meta webhook body (no "object" and "entry" list)` } },
  );
}

function isBody(v: unknown): boolean {
  const b = v as { object?: unknown; entry?: unknown } | null;
  return !!b && typeof b === 'object' && typeof b.object === 'string' && Array.isArray(b.entry);
}

export function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof ConnectorError) return { code: err.code, message: err.message };
  throw err;
}
