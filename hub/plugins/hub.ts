import fp from 'fastify-plugin';
import type { Hub } from '../context.js';

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub;
  }
}

/** Makes the shared hub services available to every route. */
export default fp<{ hub: Hub }>(
  async (app, opts) => {
    app.decorate('hub', opts.hub);
  },
  { name: 'hub' },
);
