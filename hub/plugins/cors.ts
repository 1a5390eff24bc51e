import fp from 'fastify-plugin';
import cors from '@fastify/cors';

export interface ApiCorsOptions {
  /** Exact origins, as config.apiOrigins holds them; empty: no cross-origin access. */
  origins: readonly string[];
}

/**
 * CORS for the agent API, so the agent components can run in a developer's tool on another origin.
 * Register it inside the /api/v1 scope only: web chat and embeds answer CORS their own way.
 * A listed origin is echoed with `Vary: Origin`; any other gets no CORS header and the browser blocks it.
 */
export default fp<ApiCorsOptions>(
  async (app, { origins }) => {
    if (origins.length === 0) return;
    const allowed = new Set(origins);
    await app.register(cors, {
      // A function, not the list: with a list the plugin still answers other origins' preflights (without the origin).
      origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)),
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Api-Key', 'Last-Event-ID'],
      exposedHeaders: ['Retry-After'],
      // Agents authenticate with bearer tokens, never cookies.
      credentials: false,
      maxAge: 7200,
      // A bare OPTIONS from a listed origin gets the preflight answer rather than a plain-text 400.
      strictPreflight: false,
    });
  },
  { name: 'api-cors' },
);
