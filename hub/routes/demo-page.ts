import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const asset = (name: string) => readFileSync(new URL(`../demo/${name}`, import.meta.url), 'utf8');

/** Scripts and styles only from this origin, so text a customer typed can never run as code here. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * The demo page at `/`: an agent workspace built from the web components (login → inbox →
 * conversation → draft) beside a stand-in customer site with the chat widget. The components come
 * from /embed/hummdesk.js; the page's own script only logs in and wires them together.
 */
const demoPage: FastifyPluginAsyncTypebox = async (app) => {
  const files = [
    { url: '/', body: asset('page.html'), type: 'text/html; charset=utf-8' },
    { url: '/demo.js', body: asset('demo.js'), type: 'text/javascript; charset=utf-8' },
    { url: '/demo.css', body: asset('demo.css'), type: 'text/css; charset=utf-8' },
  ];
  for (const f of files) {
    app.get(f.url, { schema: { hide: true, response: { 200: Type.String() } } }, async (_req, reply) =>
      reply.headers(SECURITY_HEADERS).type(f.type).send(f.body),
    );
  }
};

export default demoPage;
