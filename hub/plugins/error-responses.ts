import type { RouteOptions } from 'fastify';
import { Type, type TSchema } from 'typebox';

/**
 * The error answers a route can give, for its OpenAPI entry and its serializer: one body shape
 * (`{"error":{"code","message","details"}}`) per status, with the codes that status carries. Derived from
 * what a route has (a credential, a path id, a body, a rate limit), so a new route is documented as it is
 * written; a route that answers another status (503, 502) declares it in its own `response` with errorResponse().
 */
const STATUSES = {
  400: {
    description: 'The request is not valid',
    codes: ['validation_failed', 'invalid_text', 'malformed_json', 'invalid_input', 'invalid_cursor', 'bad_url', 'upload_unknown', 'reply_empty'],
  },
  401: {
    description: 'No credential, or one that is not valid',
    codes: ['unauthorized', 'invalid_token', 'invalid_api_key', 'token_revoked', 'invalid_credentials', 'invalid_refresh_token', 'visitor_token_invalid', 'identity_invalid'],
  },
  403: { description: 'The credential may not do this', codes: ['forbidden', 'origin_not_allowed', 'attachment_link_invalid', 'file_link_invalid', 'file_link_expired'] },
  404: {
    description: 'Something the request names does not exist in this account',
    codes: ['conversation_not_found', 'contact_not_found', 'channel_not_found', 'team_not_found', 'user_not_found', 'draft_not_found', 'route_not_found'],
  },
  409: { description: 'The change conflicts with what is stored', codes: ['team_exists', 'channel_exists', 'user_exists', 'draft_already_decided', 'last_owner', 'variant_exists'] },
  413: { description: 'The body is larger than the hub accepts (HUMMDESK_BODY_LIMIT)', codes: ['body_too_large', 'upload_too_large'] },
  414: { description: 'A path segment is longer than any id (100 characters)', codes: ['path_too_long'] },
  415: { description: 'The body is not of a type this route reads', codes: ['unsupported_media_type', 'upload_type_not_allowed', 'upload_content_mismatch'] },
  429: { description: 'Too many requests; retry later', codes: ['rate_limited'] },
  502: { description: 'An upstream service (Slack) failed', codes: ['slack_unavailable', 'slack_oauth_exchange_failed'] },
  503: { description: 'Not available yet; retry later', codes: ['channel_not_configured', 'embeddings_unavailable'] },
} as const;

export type ErrorStatus = keyof typeof STATUSES;

/** The body of an error answer of `status`; its description and examples name that status's codes. */
export function errorResponse(status: ErrorStatus, codes: readonly string[] = STATUSES[status].codes): TSchema {
  return Type.Object(
    {
      error: Type.Object({
        code: Type.String({ description: `a stable code, e.g. ${codes.join(', ')}`, examples: [...codes] }),
        message: Type.String({ description: 'for people; may change' }),
        details: Type.Optional(Type.Unknown({ description: 'validation: which values failed' })),
      }),
    },
    { description: `${STATUSES[status].description} (${codes.join(', ')})` },
  );
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const CHANGE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Which error statuses a route can answer, from its shape. */
export function errorStatusesOf(route: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>): ErrorStatus[] {
  const methods = ([] as string[]).concat(route.method);
  const schema = (route.schema ?? {}) as { security?: unknown[]; params?: unknown; body?: unknown };
  const isPublic = Array.isArray(schema.security) && schema.security.length === 0;
  const visitor = route.url.startsWith('/webchat/');
  // A signed file link is its own credential: a bad or expired one is refused.
  const signedLink = route.url.startsWith('/files/');
  const hasBody = methods.some((m) => BODY_METHODS.has(m));
  const statuses: ErrorStatus[] = [400];
  const hasPath = schema.params !== undefined || route.url.includes('/:');
  // A public route with a body takes its credential there (login, refresh, a visitor's signed identity).
  if (!isPublic || visitor || hasBody) statuses.push(401);
  if (!isPublic || visitor || signedLink) statuses.push(403);
  if (hasPath || hasBody) statuses.push(404);
  if (methods.some((m) => CHANGE_METHODS.has(m))) statuses.push(409);
  if (hasBody) statuses.push(413, 415);
  if (hasPath) statuses.push(414);
  if ((route.config as { rateLimit?: unknown } | undefined)?.rateLimit !== false) statuses.push(429);
  return statuses.sort((a, b) => a - b);
}

/** `/teams/:id/members/:userId` → team_not_found, user_not_found: what each path id names. */
export function notFoundCodes(url: string): string[] {
  const codes = new Set<string>();
  const parts = url.split('/');
  parts.forEach((part, i) => {
    if (!part.startsWith(':') || i === 0) return;
    const param = part.slice(1);
    const noun = param === 'id' ? parts[i - 1]! : param.replace(/Id$/u, '');
    if (noun === 'webchat' || param === 'widgetId') codes.add('channel_not_found');
    else if (noun && !noun.startsWith(':')) codes.add(`${noun.replace(/ies$/u, 'y').replace(/s$/u, '').replace(/-/gu, '_')}_not_found`);
  });
  return [...codes];
}

/**
 * The route's schema as the OpenAPI document shows it: its own responses plus the error answers it does not
 * declare. Documentation only; error bodies are built by the error handler, not serialised from these.
 */
export function withErrorResponses(route: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>): Record<string, unknown> {
  const schema = (route.schema ?? {}) as { response?: Record<string, unknown> };
  const response: Record<string, unknown> = { ...schema.response };
  for (const status of errorStatusesOf(route)) {
    const notFound = status === 404 ? notFoundCodes(route.url) : [];
    response[status] ??= errorResponse(status, notFound.length ? notFound : undefined);
  }
  return { ...schema, response };
}
