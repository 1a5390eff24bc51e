import type { FastifyRequest } from 'fastify';
import type { ChannelInstallation } from '../../connectors/core/types.js';

/**
 * CORS for a widget channel: the embedding sites are listed in channel.config.allowedOrigins
 * (`['*']` for any). The hub's own origin (the demo page) is always allowed.
 * Returns the headers to send, or undefined when this origin may not call the widget.
 */
export function widgetCorsHeaders(channel: ChannelInstallation, req: FastifyRequest): Record<string, string> | undefined {
  const origin = req.headers.origin;
  if (!origin) return {};
  const allowed = Array.isArray(channel.config.allowedOrigins) ? channel.config.allowedOrigins.filter((o): o is string => typeof o === 'string') : [];
  // Visitors authenticate with a header token, never cookies, so a wildcard exposes nothing extra.
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
  if (allowed.includes(origin) || origin === `${req.protocol}://${req.host}`) return { 'access-control-allow-origin': origin, vary: 'Origin' };
  return undefined;
}

export const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, x-visitor-id',
  'access-control-max-age': '600',
};
