import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../errors.js';
import { hasNul, withoutNul } from '../../connectors/core/text.js';

/** Where a customer's channel delivers text: a NUL there is dropped, not answered with an error that loses the message. */
const INBOUND_PREFIXES = ['/webchat/', '/webhooks/'];

/**
 * Input every route shares, before schema validation: a string Postgres cannot store (NUL) is a 400
 * `invalid_text` wherever it is (body, query, path, headers), never a 500 from the database; and every
 * response tells browsers not to sniff a type (Slack's url_verification echoes the caller's text).
 */
export default fp(
  async (app) => {
    app.addHook('preValidation', async (req) => {
      const inbound = INBOUND_PREFIXES.some((p) => req.url.startsWith(p));
      if (inbound && req.body !== null && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) req.body = stripNul(req.body);
      for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
        const at = nulAt(valueOf(req, part));
        if (at !== undefined) throw badRequest('invalid_text', `a text in the request (${part} ${at || '/'}) contains a NUL character`, { in: part, path: at });
      }
    });
    app.addHook('onSend', async (_req, reply) => {
      reply.header('x-content-type-options', 'nosniff');
    });
  },
  { name: 'input' },
);

function valueOf(req: FastifyRequest, part: 'body' | 'querystring' | 'params' | 'headers'): unknown {
  return part === 'querystring' ? req.query : req[part];
}

/** The JSON pointer of the first key or string holding a NUL, or undefined. Buffers (raw bodies) are bytes, not text. */
export function nulAt(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return hasNul(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = nulAt(value[i], `${path}/${i}`);
      if (at !== undefined) return at;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const here = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (hasNul(k)) return here;
    const at = nulAt(v, here);
    if (at !== undefined) return at;
  }
  return undefined;
}

/** A copy of parsed JSON without NUL in any key or string. */
function stripNul(value: unknown): unknown {
  if (typeof value === 'string') return withoutNul(value);
  if (Array.isArray(value)) return value.map(stripNul);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), stripNul(v)]));
}
