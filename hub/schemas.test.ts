import { describe, expect, it } from 'vitest';
import fastJson from 'fast-json-stringify';
import { Ajv } from 'ajv';
import { Type } from 'typebox';
import { Message, Nullable, Page, StringEnum, User } from './schemas.js';
import { InboxConversation } from './routes/conversations.js';

const json = (s: unknown) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
type FjsSchema = Parameters<typeof fastJson>[0];
const compile = (s: unknown) => fastJson(json(s) as unknown as FjsSchema);
/** The code fast-json-stringify generates for a schema (what Fastify compiles for a route's response). */
const code = (s: unknown) => String((fastJson(json(s) as unknown as FjsSchema, { mode: 'debug' }) as unknown as { code: string }).code);

const row = (i: number) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, channelId: '00000000-0000-4000-8000-00000000000a', channelKind: 'email',
  contactId: '00000000-0000-4000-8000-00000000000b', contactName: i % 2 ? 'Ann "Smith"' : null, threadKey: `t-${i}`, subject: i % 3 ? 'Où est ma commande ?\n' : null,
  status: 'open', priority: 'high', category: null, language: 'fi', sentiment: i % 2 ? 'negative' : null, confidence: i % 2 ? 0.75 : null,
  assigneeId: i % 2 ? '00000000-0000-4000-8000-00000000000c' : null, teamId: null, snoozedUntil: i % 2 ? new Date(Date.UTC(2026, 11, 7, 18, i)) : null,
  tags: i % 2 ? ['vip', 'billing'] : [], lastMessageAt: new Date(Date.UTC(2026, 11, 7, 12, i)), createdAt: new Date(Date.UTC(2026, 0, 1)), updatedAt: new Date(Date.UTC(2026, 11, 7)),
  channelName: 'Support', contactEmail: i % 2 ? 'ann@example.com' : null, contactPhone: null, preview: i % 2 ? 'Hello\u2028there' : null,
  previewDirection: i % 3 === 0 ? null : i % 3 === 1 ? 'inbound' : 'outbound', waitingSince: i % 2 ? '2026-12-07T10:00:00.000Z' : null, unread: i % 2 === 0,
});

describe('shared response schemas as fast-json-stringify writes them', () => {
  it('writes nullable fields and string enums with no validator, for the inbox page, messages and users', () => {
    for (const schema of [Page(InboxConversation), Page(Message), Type.Array(User)]) expect(code(schema)).not.toContain('getSchemaValidator');
    expect(code(Type.Object({ v: Type.Union([Type.Null(), Type.String()]) }))).toContain('getSchemaValidator');
  });

  it('writes an inbox page as JSON.stringify does (the fields a summary may leave out last), its Dates as ISO strings', () => {
    const page = { items: Array.from({ length: 12 }, (_, i) => row(i)), nextCursor: null as string | null };
    const write = compile(Page(InboxConversation));
    expect(JSON.parse(write(page))).toEqual(JSON.parse(JSON.stringify(page)));
    expect(JSON.parse(write({ ...page, nextCursor: 'abc' }))).toEqual(JSON.parse(JSON.stringify({ ...page, nextCursor: 'abc' })));
    expect(write(page).length).toBe(JSON.stringify(page).length);
  });

  it('validates as the anyOf did: null or the type (its format, pattern and enum too)', () => {
    const ajv = new Ajv({ formats: { uuid: /^[0-9a-f-]{36}$/ } });
    const uuid = ajv.compile(json(Nullable(Type.String({ format: 'uuid' }))));
    expect([uuid(null), uuid('00000000-0000-4000-8000-00000000000a'), uuid('x'), uuid(1)]).toEqual([true, true, false, false]);
    const dir = ajv.compile(json(Nullable(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]))));
    expect([dir(null), dir('inbound'), dir('sideways')]).toEqual([true, true, false]);
    const level = ajv.compile(json(Nullable(StringEnum(['low', 'high']))));
    expect([level(null), level('low'), level('mid')]).toEqual([true, true, false]);
    const count = ajv.compile(json(Nullable(Type.Integer({ minimum: 1 }))));
    expect([count(null), count(2), count(0), count(1.5)]).toEqual([true, true, false, false]);
    // With coercion (URL values), a JSON null stays null instead of becoming "" or 0.
    const coercing = new Ajv({ coerceTypes: true });
    const text = coercing.compile(json(Type.Object({ v: Nullable(Type.String()) })));
    const value = { v: null };
    expect(text(value)).toBe(true);
    expect(value.v).toBeNull();
  });

  it('writes a nullable object by its type too, and keeps anyOf for unions it cannot say in one type', () => {
    const sender = Type.Object({ v: Nullable(Type.Object({ a: Type.String() })) });
    expect(compile(sender)({ v: { a: 'x' } })).toBe('{"v":{"a":"x"}}');
    expect(compile(sender)({ v: null })).toBe('{"v":null}');
    const ajv = new Ajv();
    const valid = ajv.compile(json(sender));
    expect([valid({ v: null }), valid({ v: { a: 'x' } }), valid({ v: {} }), valid({ v: 'x' })]).toEqual([true, true, false, false]);
    expect(json(Nullable(Type.Literal('x')))).toEqual({ type: ['string', 'null'], enum: ['x', null] });
    expect(json(Nullable(Type.Union([Type.String(), Type.Integer()])))).toEqual({ anyOf: [{ type: 'null' }, { anyOf: [{ type: 'string' }, { type: 'integer' }] }] });
    expect(json(Nullable(Type.Any()))).toEqual({});
  });
});
