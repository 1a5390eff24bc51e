import fp from 'fastify-plugin';
import type { Hub } from '../context.js';

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub;
  }
}

/** Makes the shared hub services available to every route, and tells the job runner about waiting requests. */
export default fp<{ hub: Hub }>(
  async (app, opts) => {
    app.decorate('hub', opts.hub);
    const { foreground } = opts.hub;
    app.addHook('onRequest', (_req, reply, done) => {
      foreground.begin(reply.raw);
      done();
    });
  },
  { name: 'hub' },
);
