import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { seedConversation } from '../testing/seed.js';

/*
 * Drives every route of the OpenAPI document with requests generated from its own schemas: some valid, some
 * broken on purpose (a wrong type, a missing or unknown field, a NUL, an over-long text, a bad id, bad JSON).
 * Every answer must be below 500, have a status the document lists for that route, and a body that matches
 * the schema it gives for that status. Deterministic (a seeded generator) and bounded (REQUESTS per route).
 */

const REQUESTS = 10;
const SEED = 0x1d35;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: Json[];
  const?: Json;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  nullable?: boolean;
  default?: Json;
  $ref?: string;
  [k: string]: unknown;
};
interface Parameter { in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema: Schema }
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
}
interface Doc { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } }

/** mulberry32: the same requests on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

let t: TestHub;
let acct: TestAccount;
let doc: Doc;
let ajv: Ajv;
/** Ids that exist in the account, so valid requests reach the handlers, not only the 404s. */
let ids: string[];
let widgetId: string;
/** Seeded ids by what they are (`conversations`, `team`…). */
let named: Record<string, string> = {};
/** The OpenAPI path of the request being built. */
let currentPath = '';
let visitorToken: string;
let visitorId: string;

beforeAll(async () => {
  t = await startTestHub({ jobs: false, env: { HUMMDESK_RATE_LIMIT: '1000000', HUMMDESK_PUBLIC_RATE_LIMIT: '1000000' } });
  acct = await createTestAccount(t);
  const seeded = await seedConversation(t, acct);
  ids = [seeded.conversationId, seeded.contactId, seeded.messageId, acct.channelId, acct.users.agent.id, acct.users.viewer.id, randomUUID()];
  const team = await t.app.inject({ method: 'POST', url: '/api/v1/teams', headers: { authorization: `Bearer ${acct.users.admin.token}` }, payload: { name: 'Support' } });
  ids.push(team.json<{ id: string }>().id);
  named = {
    conversations: seeded.conversationId, contacts: seeded.contactId, messages: seeded.messageId, channels: acct.channelId,
    users: acct.users.agent.id, user: acct.users.agent.id, assignee: acct.users.agent.id, teams: team.json<{ id: string }>().id,
  };
  widgetId = `key-${acct.slug}`;
  const session = await t.app.inject({ method: 'POST', url: `/webchat/${widgetId}/sessions`, payload: { name: 'Vera' } });
  expect(session.statusCode).toBe(201);
  ({ visitorToken, visitorId } = session.json<{ visitorToken: string; visitorId: string }>());
  doc = (await t.app.inject({ url: '/docs/json' })).json<Doc>();
  ajv = new Ajv({ strict: false, allErrors: true, formats: fullFormats });
}, 60_000);
afterAll(() => t?.close());

/** The schema with every `$ref` into components replaced by what it names. */
function deref(s: Schema, seen: string[] = []): Schema {
  if (s === null || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map((x) => deref(x as Schema, seen)) as unknown as Schema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/components/schemas/', '');
    if (seen.includes(name)) return {};
    return deref(doc.components?.schemas?.[name] ?? {}, [...seen, name]);
  }
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v !== null && typeof v === 'object' ? deref(v as Schema, seen) : v])) as Schema;
}

function typesOf(s: Schema): string[] {
  const ts = s.type === undefined ? [] : ([] as string[]).concat(s.type);
  if (ts.length === 0) {
    if (s.properties) return ['object'];
    if (s.items) return ['array'];
  }
  return ts;
}

/** A value `s` accepts (as far as a generator can know without its route's rules). */
function valid(s: Schema, r: Rng, key = ''): Json {
  if (s.const !== undefined) return s.const;
  if (s.enum) return r.pick(s.enum);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((x) => valid(x, r, key) as object));
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) {
    const nonNull = alternatives.filter((x) => x.type !== 'null');
    return valid(r.pick(nonNull.length && r.chance(0.85) ? nonNull : alternatives), r, key);
  }
  if (s.default !== undefined && r.chance(0.3)) return s.default;
  const type = r.pick(typesOf(s).filter((x) => x !== 'null').concat(typesOf(s).length ? [] : ['string']));
  switch (type) {
    case 'object': {
      const out: Record<string, Json> = {};
      for (const [k, p] of Object.entries(s.properties ?? {})) if (s.required?.includes(k) || r.chance(0.5)) out[k] = valid(p, r, k);
      return out;
    }
    case 'array': {
      const n = r.int(s.minItems ?? 0, Math.min(s.maxItems ?? 3, Math.max(s.minItems ?? 0, 3)));
      return Array.from({ length: n }, () => valid(s.items ?? {}, r, key));
    }
    case 'integer':
    case 'number': {
      const lo = s.minimum ?? 0;
      const hi = s.maximum ?? Math.max(lo, 100);
      return type === 'integer' ? r.int(Math.ceil(lo), Math.floor(hi)) : lo + r.next() * (hi - lo);
    }
    case 'boolean':
      return r.chance(0.5);
    case 'null':
      return null;
    default:
      return validString(s, r, key);
  }
}

function validString(s: Schema, r: Rng, key: string): string {
  switch (s.format) {
    case 'uuid': {
      const known = knownId(key);
      return known && r.chance(0.8) ? known : r.pick(ids);
    }
    case 'email':
      return `someone${r.int(1, 9999)}@example.com`;
    case 'date-time':
      return new Date(Date.UTC(2026, r.int(0, 11), r.int(1, 28))).toISOString();
    case 'date':
      return `2026-0${r.int(1, 9)}-1${r.int(0, 9)}`;
    case 'uri':
      return `https://example.com/${r.int(1, 999)}`;
  }
  if (/^(widgetId)$/u.test(key)) return widgetId;
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 24, Math.max(min, 24));
  const alphabet = 'abcdefghijkl mnopqrstuvwxyzÅäö日本-_.0123456789';
  let out = '';
  const n = r.int(Math.max(min, key ? 1 : 0), Math.max(min, max));
  for (let i = 0; i < n; i++) out += r.pick([...alphabet]);
  return out;
}

/** The seeded id a field or path parameter most likely names (`/teams/{id}`, `assigneeId`), if any. */
function knownId(key: string): string | undefined {
  const noun = key === 'id' ? (/\/([a-z-]+)\/\{id\}/u.exec(currentPath)?.[1] ?? '') : key.replace(/Ids?$/u, '').toLowerCase();
  return named[noun] ?? named[`${noun}s`];
}

/** A value `s` must refuse, or a wrong one a route must turn into a 4xx. */
function invalid(s: Schema, r: Rng): Json {
  const types = typesOf(s);
  const wrongType: Json = types.includes('string') ? r.pick<Json>([12, false, ['x'], { a: 1 }]) : types.includes('object') ? r.pick<Json>(['text', 7, []]) : r.pick<Json>(['text', { a: 1 }, '']);
  if (types.includes('object') && s.properties && Object.keys(s.properties).length) {
    const v = valid(s, r) as Record<string, Json>;
    const keys = Object.keys(s.properties);
    switch (r.int(0, 4)) {
      case 0: {
        const k = r.pick(keys);
        v[k] = invalid(s.properties[k]!, r);
        return v;
      }
      case 1:
        if (s.required?.length) delete v[r.pick(s.required)];
        else v['unknown\u0000field'] = 1;
        return v;
      case 2:
        v[`unexpected_${r.int(1, 99)}`] = 'x';
        return v;
      case 3: {
        const k = r.pick(keys);
        v[k] = typeof v[k] === 'string' ? `${v[k]}\u0000` : 'nul\u0000';
        return v;
      }
      default:
        return wrongType;
    }
  }
  if (types.includes('string') && r.chance(0.5)) {
    if (s.format === 'uuid') return r.pick(['not-a-uuid', '123', `${randomUUID()}x`, '']);
    if (s.maxLength !== undefined && r.chance(0.5)) return 'x'.repeat(s.maxLength + 1);
    return r.pick(['a\u0000b', '', ' ', '\u202Efdp.exe']);
  }
  if ((types.includes('integer') || types.includes('number')) && r.chance(0.5)) return r.pick([-1, 1e12, 1.5, s.maximum !== undefined ? s.maximum + 1 : -1e9]);
  return wrongType;
}

/** Text for a URL: a path segment or a query value. */
function asText(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

interface Built { method: string; url: string; headers: Record<string, string>; payload?: string | Buffer; label: string }

function buildRequest(path: string, method: string, op: Operation, r: Rng, broken: boolean): Built {
  currentPath = path;
  const params = op.parameters ?? [];
  // Break one part: a parameter, the body, or the JSON itself.
  const target = broken ? r.pick(['param', 'body', 'body', 'json']) : undefined;
  const brokenParam = target === 'param' && params.length ? r.pick(params) : undefined;
  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = { authorization: `Bearer ${acct.users.admin.token}` };
  if (path.startsWith('/webchat/')) {
    headers.authorization = `Visitor ${visitorToken}`;
    headers['x-visitor-id'] = visitorId;
  }
  for (const p of params) {
    const s = deref(p.schema ?? {});
    if (p !== brokenParam && !p.required && p.in !== 'path' && r.chance(0.5)) continue;
    const v = p === brokenParam ? invalid(s, r) : valid(s, r, p.name);
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(asText(v)) || 'x');
    else if (p.in === 'query') query.set(p.name, asText(v));
    // The visitor's own id and token stay as the session gave them unless this is the part to break.
    else if (p === brokenParam || headers[p.name] === undefined) headers[p.name] = asText(v).replace(/[\u0000-\u001f\u007f-\uffff]/gu, '');
  }
  if ([...query].length) url += `?${query}`;
  let payload: string | Buffer | undefined;
  const content = op.requestBody?.content;
  const json = content?.['application/json']?.schema;
  if (json) {
    headers['content-type'] = 'application/json';
    const s = deref(json);
    if (target === 'json') payload = r.pick(['{"unterminated": "', '{bad json}', '[1,2', 'null', '"just a string"']);
    else payload = JSON.stringify(target === 'body' ? invalid(s, r) : valid(s, r));
  } else if (content && Object.keys(content).length) {
    headers['content-type'] = 'text/plain';
    payload = target ? Buffer.from([0, 1, 2, 0xff]) : 'hello';
  } else if (target === 'body' && ['post', 'put', 'patch'].includes(method)) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify({ unexpected: 1 });
  }
  return { method: method.toUpperCase(), url, headers, payload, label: `${method.toUpperCase()} ${url}${payload === undefined ? '' : ` ${String(payload).slice(0, 200)}`}` };
}

const validators = new Map<unknown, ValidateFunction>();
function validatorFor(schema: Schema): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(deref(schema));
    validators.set(schema, v);
  }
  return v;
}

/** Streams never end, so inject would wait forever; their handshake is tested elsewhere (events.test.ts). */
const isStream = (path: string, method: string) => method === 'get' && /\/events$/u.test(path);

describe('every route of the OpenAPI document answers generated requests as documented', () => {
  it('no 5xx, and every status and body is the documented one', async () => {
    const r = prng(SEED);
    const failures: string[] = [];
    let sent = 0;
    const succeeded = new Set<string>();
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map(([m, op]) => [path, m, op] as const),
    );
    expect(operations.length).toBeGreaterThan(60);
    for (const [path, method, op] of operations) {
      if (isStream(path, method)) continue;
      for (let i = 0; i < REQUESTS; i++) {
        const req = buildRequest(path, method, op, r, i % 2 === 1);
        const res = await t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) });
        sent++;
        if (res.statusCode < 300) succeeded.add(`${method} ${path}`);
        if (process.env.CONTRACT_TRACE && !(i % 2)) console.log(res.statusCode, req.label.slice(0, 160), res.body.slice(0, 160));
        const documented = op.responses[String(res.statusCode)] ?? op.responses.default;
        if (res.statusCode >= 500) failures.push(`${res.statusCode} on ${req.label}: ${res.body.slice(0, 300)}`);
        else if (!documented) failures.push(`undocumented ${res.statusCode} on ${req.label} (documented: ${Object.keys(op.responses).join(', ')}): ${res.body.slice(0, 200)}`);
        else {
          const schema = documented.content?.['application/json']?.schema;
          const type = String(res.headers['content-type'] ?? '');
          if (schema && type.startsWith('application/json')) {
            const check = validatorFor(schema);
            if (!check(res.json())) failures.push(`body of ${res.statusCode} on ${req.label} does not match the document: ${ajv.errorsText(check.errors)}; ${res.body.slice(0, 200)}`);
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(500);
    expect(failures).toEqual([]);
    // The valid half reaches handlers, not only validation: most routes answered a 2xx at least once.
    expect(succeeded.size, `${succeeded.size} of ${operations.length} routes answered 2xx; never: ${operations.filter(([p, m]) => !isStream(p, m) && !succeeded.has(`${m} ${p}`)).map(([p, m]) => `${m} ${p}`).join(', ')}`).toBeGreaterThan(operations.length * 0.6);
  }, 300_000);
});
