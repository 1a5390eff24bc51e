import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { buildEmbeds, type EmbedBundle } from '../../embeds/build.js';
import { notFound } from '../errors.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
// The unversioned URL is what sites paste, so it must pick up a new release within the hour.
const REVALIDATE = 'public, max-age=3600, stale-while-revalidate=86400';

/** Picks the smallest encoding the client accepts. */
function encodingFor(req: FastifyRequest): 'br' | 'gzip' | undefined {
  const accept = String(req.headers['accept-encoding'] ?? '');
  const accepts = (name: string) => new RegExp(`(^|[ ,])${name}(;q=(?!0(\\.0*)?([ ,]|$))[0-9.]+)?([ ,]|$)`).test(accept);
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return undefined;
}

/**
 * The web components as ES modules: `/embed/hummdesk-chat.js` (the widget alone) and `/embed/hummdesk.js`
 * (every component). Bundled in memory on first request, precompressed, served with an ETag of the
 * content hash; `?v=<hash>` URLs are immutable.
 */
const embeds: FastifyPluginAsyncTypebox = async (app) => {
  let built: Promise<Map<string, EmbedBundle>> | undefined;
  const bundles = () =>
    (built ??= buildEmbeds().then(
      (list) => new Map(list.map((b) => [b.name, b])),
      (err: unknown) => {
        built = undefined; // a failed build is retried on the next request
        throw err;
      },
    ));

  app.get('/embed/:file', {
    config: { rateLimit: false },
    schema: {
      hide: true,
      params: Type.Object({ file: Type.String({ maxLength: 100 }) }),
      querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 64 })) }),
    },
  }, async (req, reply) => {
    const bundle = (await bundles()).get(req.params.file);
    if (!bundle) throw notFound('embed');
    const etag = `"${bundle.hash}"`;
    reply.headers({
      etag,
      'cache-control': req.query.v === bundle.hash ? IMMUTABLE : REVALIDATE,
      vary: 'accept-encoding',
      // Module scripts are fetched with CORS, and customer sites load the widget from the hub's origin.
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      'x-content-type-options': 'nosniff',
    });
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    const encoding = encodingFor(req);
    const body = encoding === 'br' ? bundle.brotli : encoding === 'gzip' ? bundle.gzip : bundle.code;
    if (encoding) reply.header('content-encoding', encoding);
    return reply.type('text/javascript; charset=utf-8').header('content-length', body.length).send(body);
  });
};

export default embeds;
