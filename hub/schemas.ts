import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';
import { badRequest } from './errors.js';

/** Response and shared schemas; route files import these so the OpenAPI document has one shape per thing. */

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }) },
  { $id: 'Error' },
);

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });

const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default']);

/**
 * A string that is one of `values`, as one `enum` (a union of literals is an `anyOf`, which fast-json-stringify
 * writes by running a validator per branch on every value).
 */
export const StringEnum = <const V extends readonly [string, ...string[]]>(values: V, options: { description?: string } = {}) =>
  Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] });

/**
 * `t` or null. A schema of one type (or a union of string literals) becomes `type: [t, 'null']`, so
 * fast-json-stringify tells the two apart by a typeof test where an `anyOf` runs a validator per branch on
 * every value; keywords for that type (format, pattern, properties) ignore a null, as ajv reads them.
 * Anything else is `anyOf` null or t (null first: with type coercion on, ajv would otherwise turn a JSON
 * null into 0, "" or false; a type list matches a null as it is before it coerces).
 */
export const Nullable = <T extends TSchema>(t: T): TUnsafe<Static<T> | null> => {
  const { anyOf, const: constant, ...s } = t as Record<string, unknown> & { anyOf?: Record<string, unknown>[]; const?: unknown };
  const nullable = (schema: Record<string, unknown>) => Type.Unsafe<Static<T> | null>(schema);
  if (!anyOf && typeof s.type === 'string' && s.type !== 'null' && !s.oneOf && !s.allOf) {
    const values = constant !== undefined ? [constant] : (s.enum as unknown[] | undefined);
    return nullable({ ...s, type: [s.type, 'null'], ...(values ? { enum: [...values, null] } : {}) });
  }
  if (anyOf?.length && anyOf.every((b) => b.type === 'string' && typeof b.const === 'string' && Object.keys(b).length === 2)) {
    return nullable({ ...s, type: ['string', 'null'], enum: [...anyOf.map((b) => b.const), null] });
  }
  // Anything (Type.Any) takes null already.
  if (!anyOf && constant === undefined && Object.keys(s).every((k) => ANNOTATIONS.has(k))) return nullable({ ...s });
  return Type.Unsafe<Static<T> | null>(Type.Union([Type.Null(), t]));
};

export const Conversation = Type.Object({
  id: Uuid,
  channelId: Uuid,
  channelKind: Type.String(),
  contactId: Uuid,
  contactName: Nullable(Type.String()),
  threadKey: Type.String(),
  subject: Nullable(Type.String()),
  status: StringEnum(['open', 'pending', 'snoozed', 'resolved']),
  priority: StringEnum(['low', 'normal', 'high', 'urgent']),
  category: Nullable(Type.String()),
  language: Nullable(Type.String()),
  sentiment: Nullable(Type.String()),
  confidence: Nullable(Type.Number()),
  assigneeId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  snoozedUntil: Nullable(Type.Any()),
  tags: Type.Array(Type.String()),
  lastMessageAt: Type.Any(),
  createdAt: Type.Any(),
  updatedAt: Type.Any(),
});

/** A visitor's rating of a resolution of their conversation (web chat CSAT). */
export const Csat = Type.Object({
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
  comment: Nullable(Type.String()),
  resolvedAt: Type.String({ description: 'the resolution rated' }),
  createdAt: Type.String(),
});

/** Satisfaction figures of a set of web chat resolutions (a report's totals, or one group of it). */
export const CsatFigures = Type.Object({
  resolutions: Type.Integer({
    description:
      'web chat resolutions in the range: each resolution a rating names (csat_ratings.resolved_at) and each conversation\'s latest ' +
      'resolution (conversations.resolved_at), rated or not. Earlier unrated resolutions of a conversation resolved again are not stored, so they are not counted',
  }),
  ratings: Type.Integer({ description: 'rated resolutions in the range; a resolution has at most one rating' }),
  average: Nullable(Type.Number({ minimum: 1, maximum: 5, description: 'mean rating; null with no ratings' })),
  distribution: Type.Object(
    { 1: Type.Integer(), 2: Type.Integer(), 3: Type.Integer(), 4: Type.Integer(), 5: Type.Integer() },
    { description: 'ratings per score' },
  ),
  csatPercent: Nullable(Type.Number({ minimum: 0, maximum: 100, description: 'share of ratings that are 4 or 5, in percent; null with no ratings' })),
  responseRate: Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'ratings / resolutions (0–1); null with no resolutions' })),
});

/** The zone a report counts its days in. */
export const ReportTimeZone = Type.String({
  maxLength: 64,
  description:
    'IANA time zone name (Europe/Helsinki, America/New_York); default UTC. Date-only `from` and `to` are midnight there (the first ' +
    'instant of the day where a DST change skips midnight) and groupBy=day groups by the date there, so a day across a DST change ' +
    'has 23 or 25 hours; timestamps with an offset keep their own. ' +
    'Unknown names and bare offsets (+02:00) get 400 invalid_time_zone',
});

export const CsatGroupBy = Type.Union([Type.Literal('channel'), Type.Literal('team'), Type.Literal('agent'), Type.Literal('day')]);

export const CsatReport = Type.Object({
  from: Type.String({ format: 'date-time', description: 'start of the range (inclusive)' }),
  to: Type.String({ format: 'date-time', description: 'end of the range (exclusive)' }),
  timeZone: Type.String({ description: 'the zone of the days: the timeZone asked for under the name Intl (CLDR) gives it (an alias such as US/Eastern answers as America/New_York; on Node 20 Asia/Kolkata answers as Asia/Calcutta)' }),
  groupBy: Nullable(CsatGroupBy),
  totals: CsatFigures,
  groups: Type.Optional(Type.Array(
    Type.Object({
      id: Nullable(Type.String({ description: 'channel, team or user id, or the day in timeZone (YYYY-MM-DD); null for conversations with no team or no assignee' })),
      name: Nullable(Type.String({ description: "the channel's, team's or agent's name, or the day" })),
      ...CsatFigures.properties,
    }),
    { description: 'with groupBy: one row per group that had a resolution in the range' },
  )),
}, {
  description:
    "Web chat CSAT of the resolutions in [from, to). A rating counts toward the resolution it rates (its time, and the conversation's " +
    'current channel, team and assignee): ratings and resolutions are counted the same way, so responseRate stays within 0–1.',
});

export const Attachment = Type.Object({
  id: Uuid,
  kind: Type.String(),
  name: Nullable(Type.String()),
  mimeType: Nullable(Type.String()),
  size: Nullable(Type.Number()),
  contentId: Type.Optional(Nullable(Type.String({ description: 'email Content-ID: `<img src="cid:…">` in the message HTML shows this attachment' }))),
  url: Type.Optional(Type.String({ description: 'a signed link to the bytes (relative to the hub), valid one to two hours: for `<img>` and downloads' })),
  fetchState: Type.Optional(Nullable(Type.Union([Type.Literal('pending'), Type.Literal('retrying'), Type.Literal('stored'), Type.Literal('failed')], {
    description: 'a file a channel gives by reference (WhatsApp media, Slack files): pending until first fetched, `retrying` after a transient failure, `stored`, or `failed` for good (see fetchError)',
  }))),
  fetchError: Type.Optional(Nullable(Type.String({ description: 'why the bytes could not be fetched' }))),
});

export const Message = Type.Object({
  id: Uuid,
  conversationId: Uuid,
  channelId: Uuid,
  direction: StringEnum(['inbound', 'outbound']),
  authorKind: Type.String(),
  authorUserId: Nullable(Uuid),
  authorName: Nullable(Type.String()),
  sender: Nullable(Type.Object(
    { identityId: Uuid, contactId: Uuid, name: Nullable(Type.String()), address: Nullable(Type.String()) },
    { description: "who really sent an inbound message (their contact identity), not necessarily the conversation's contact; on an \"X joined this thread\" notice, who joined; null for our own messages and ones stored before senders were kept" },
  )),
  notice: Nullable(Type.String({ description: '`participant_joined`: an agent-only note that someone who is not a participant wrote into the conversation' })),
  authentication: Nullable(Type.String({ description: "email: the DMARC (else aligned DKIM) verdict of the mailbox's own receiving server on From: `pass`, `fail` (likely forged) or `none`; null when it gave none (or the channel has no `authservId`)" })),
  isPrivate: Type.Boolean(),
  text: Type.String(),
  html: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  deliveryStatus: Nullable(Type.String()),
  deliveryError: Nullable(Type.String()),
  autoReply: Type.Boolean(),
  sentAt: Type.Any(),
  fullText: Type.Optional(Nullable(Type.String({ description: 'the whole body when `text` is only the visible reply (email: quoted history and signature removed)' }))),
  attachments: Type.Array(Attachment),
});

export const Role = StringEnum(['owner', 'admin', 'agent', 'viewer']);

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: Role,
  slackUserId: Nullable(Type.String()),
  teamsUserId: Nullable(Type.String()),
  available: Type.Boolean(),
  maxOpenConversations: Nullable(Type.Integer()),
  skills: Type.Array(Type.String()),
});

export const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

export type ConversationT = Static<typeof Conversation>;

/** Opaque keyset cursor. */
export function encodeCursor(values: Record<string, string>): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string>>(cursor: string | undefined, keys: (keyof T)[]): T | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as T;
    if (keys.every((k) => typeof parsed[k] === 'string')) return parsed;
  } catch {
    // fall through to the error below
  }
  throw badRequest('invalid_cursor', 'cursor is not valid');
}
