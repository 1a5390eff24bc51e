import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** One error shape for every route: a stable code, a message, and no internals on a 5xx. */
export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | HubError | Error, req, reply) => {
      let status = 500;
      let body: ErrorBody = { error: { code: 'internal_error', message: 'something went wrong; it has been logged' } };
      if (err instanceof HubError) {
        status = err.statusCode;
        body = { error: { code: err.code, message: err.message, details: err.details } };
      } else if ('validation' in err && err.validation) {
        status = 400;
        body = { error: { code: 'validation_failed', message: err.message, details: err.validation } };
      } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
        status = err.statusCode;
        // A plugin may throw a ready error body rather than an Error (the rate limiter's errorResponseBuilder).
        const given = (err as { error?: { code?: unknown; message?: unknown } }).error;
        const code = typeof given?.code === 'string' ? given.code : fastifyCode(err as FastifyError);
        body = { error: { code, message: typeof err.message === 'string' ? err.message : typeof given?.message === 'string' ? given.message : code.replace(/_/g, ' ') } };
      } else if (isInvalidText(err)) {
        // A NUL (or bytes invalid in UTF-8) that got past the input hook: Postgres text cannot hold it.
        status = 400;
        body = { error: { code: 'invalid_text', message: 'a text in the request contains a character that cannot be stored (NUL)' } };
      } else if (isInvalidInput(err)) {
        // Postgres rejected a value (bad uuid, out-of-range): the client's input, not our fault.
        status = 400;
        body = { error: { code: 'invalid_input', message: 'a value in the request is not valid' } };
      }
      if (status >= 500) req.log.error({ err }, 'request failed');
      else req.log.info({ code: body.error.code }, 'request rejected');
      return reply.status(status).send(body);
    });
    app.setNotFoundHandler(routeNotFound);
  },
  { name: 'errors' },
);

/** Errors the router answers before any route or hook runs (Fastify's `frameworkErrors`), in the one error shape. */
export function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  reply.header('x-content-type-options', 'nosniff');
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return reply.status(414).send({ error: { code: 'path_too_long', message: 'a path segment is longer than any id (100 characters)' } });
  if (err.code === 'FST_ERR_BAD_URL') return reply.status(400).send({ error: { code: 'bad_url', message: 'the URL is not valid' } });
  return reply.status(500).send({ error: { code: 'internal_error', message: 'something went wrong; it has been logged' } });
}

/** The answer to a request no route takes. A scope whose hooks must run on it too (CORS on /api/v1) sets it again. */
export function routeNotFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send({ error: { code: 'route_not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
}

function fastifyCode(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'malformed_json';
    default:
      if (err.statusCode === 429) return 'rate_limited';
      if (err.statusCode === 400 && /JSON/i.test(err.message)) return 'malformed_json';
      return err.code ? err.code.toLowerCase().replace(/^fst_err_/, '') : 'bad_request';
  }
}

function isInvalidText(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '22021' || code === '22P05';
}

function isInvalidInput(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && ['22P02', '22007', '22008', '22003', '23514'].includes(code);
}
