import { describe, expect, it } from 'vitest';
import fastJson from 'fast-json-stringify';
import { Page } from '../schemas.js';
import { InboxConversation } from './conversations.js';
import { leanSchema, leanSerializerCompiler } from './lean-serializer.js';

const schema = JSON.parse(JSON.stringify(Page(InboxConversation))) as Record<string, unknown>;

const row = (i: number) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, channelId: '00000000-0000-4000-8000-00000000000a', channelKind: 'email',
  contactId: '00000000-0000-4000-8000-00000000000b', contactName: i % 2 ? 'Ann "Smith"' : null, threadKey: `t-${i}`, subject: i % 3 ? 'Où est ma commande ?\n' : null,
  status: 'open', priority: 'high', category: null, language: 'fi', sentiment: i % 2 ? 'negative' : null, confidence: i % 2 ? 0.75 : null,
  assigneeId: i % 2 ? '00000000-0000-4000-8000-00000000000c' : null, teamId: null, snoozedUntil: i % 2 ? new Date(Date.UTC(2026, 11, 7, 18, i)) : null,
  tags: i % 2 ? ['vip', 'billing'] : [], lastMessageAt: new Date(Date.UTC(2026, 11, 7, 12, i)), createdAt: new Date(Date.UTC(2026, 0, 1)), updatedAt: new Date(Date.UTC(2026, 11, 7)),
  channelName: 'Support', contactEmail: i % 2 ? 'ann@example.com' : null, contactPhone: null, preview: i % 2 ? 'Hello\u2028there' : null,
  previewDirection: i % 3 === 0 ? null : i % 3 === 1 ? 'inbound' : 'outbound', waitingSince: i % 2 ? '2026-12-07T10:00:00.000Z' : null, unread: i % 2 === 0,
  cursorAt: '2026-12-07 12:00:00.123456+00',
});

describe('leanSerializerCompiler (the inbox page)', () => {
  it('writes a page exactly as JSON.stringify does, its Dates as ISO strings', () => {
    const page = { items: Array.from({ length: 12 }, (_, i) => row(i)), nextCursor: null as string | null };
    const lean = leanSerializerCompiler({ schema });
    const expected = (p: typeof page) => JSON.stringify({ ...p, items: p.items.map(({ cursorAt: _c, ...r }) => r) });
    expect(lean(page)).toBe(expected(page));
    expect(lean({ ...page, nextCursor: 'abc' })).toBe(expected({ ...page, nextCursor: 'abc' }));
  });

  it('checks no nullable field with a validator, row by row', () => {
    const code = (s: unknown) => String((fastJson(s as Parameters<typeof fastJson>[0], { mode: 'debug' }) as unknown as { code: string }).code);
    expect(code(schema)).toContain('getSchemaValidator');
    expect(code(leanSchema(schema))).not.toContain('getSchemaValidator');
  });

  it('keeps unions it cannot write unchecked, and leaves the documented schema as it was', () => {
    const mixed = { type: 'object', properties: { v: { anyOf: [{ type: 'null' }, { type: 'object', properties: { a: { type: 'string' } } }] }, w: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } };
    expect(leanSchema(mixed)).toEqual(mixed);
    const before = JSON.stringify(schema);
    leanSchema(schema);
    expect(JSON.stringify(schema)).toBe(before);
  });
});
