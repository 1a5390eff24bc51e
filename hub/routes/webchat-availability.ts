import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { businessHoursOf, hoursStatus } from '../../connectors/webchat/hours.js';
import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';

export interface WebchatAvailabilityOptions {
  channelOf(req: FastifyRequest): ChannelInstallation;
  limitPerAddress: RouteShorthandOptions['config'];
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
}

const WidgetParams = Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }) });

export const Availability = Type.Object({
  available: Type.Boolean(),
  /** `closed`: outside the channel's business hours; `no_agents`: nobody who answers is marked available. */
  reason: Type.Optional(Type.Union([Type.Literal('closed'), Type.Literal('no_agents')])),
  /** When the business hours next begin (within a week), for "back at …". */
  nextOpen: Type.Optional(Type.String({ format: 'date-time' })),
});
export type AvailabilityT = Static<typeof Availability>;

/** Whether someone can answer the channel's chat now: inside its business hours and an agent marked available. */
export async function channelAvailability(db: Database, channel: ChannelInstallation, now: Date): Promise<AvailabilityT> {
  const hours = businessHoursOf(channel.config);
  if (hours) {
    const status = hoursStatus(hours, now);
    if (!status.open) return { available: false, reason: 'closed', ...(status.nextOpen ? { nextOpen: status.nextOpen.toISOString() } : {}) };
  }
  const staffed = await withAccount(db, channel.accountId, async (tx) =>
    (await tx.query(`SELECT 1 FROM users WHERE available AND role IN ('owner', 'admin', 'agent') LIMIT 1`)).rowCount! > 0,
  );
  return staffed ? { available: true } : { available: false, reason: 'no_agents' };
}

/** Agent availability for the widget's offline message; public, limited per address like a session start. */
const webchatAvailability: FastifyPluginAsyncTypebox<WebchatAvailabilityOptions> = async (app, { channelOf, limitPerAddress, now = () => new Date() }) => {
  app.get('/:widgetId/availability', {
    config: limitPerAddress,
    schema: {
      tags: ['webchat'],
      summary: 'Whether an agent can answer now (business hours of the channel and agents marked available)',
      description: 'Messages are accepted either way; when nobody is available the widget says so and asks for an email.',
      security: [],
      params: WidgetParams,
      response: { 200: Availability },
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return channelAvailability(app.hub.db, channelOf(req), now());
  });
};

export default webchatAvailability;
