import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorBody } from '../schemas.js';
import { withErrorResponses } from './error-responses.js';

/** OpenAPI at /docs/json, a browsable page at /docs; generated from the route schemas. */
export default fp(
  async (app) => {
    app.addSchema(ErrorBody);
    await app.register(swagger, {
      openapi: {
        info: { title: 'HummDesk API', version: '1', description: 'Customer-support hub: conversations, channels, agents, realtime.' },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'Agent access token (POST /api/v1/auth/login) or an API key (hd_…)' },
          },
        },
        security: [{ bearer: [] }],
      },
      // Every route lists the error answers its shape allows (hub/plugins/error-responses.ts).
      transform: ({ schema, url, route }) => ({ schema: withErrorResponses({ ...route, schema }) as typeof schema, url }),
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'docs' },
);
