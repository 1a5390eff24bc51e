import type { LightMyRequestResponse } from 'fastify';
import { GraphEmulator, signedWebhook } from '../../connectors/meta/testing/emulator.js';
import { startSlackFixture, type SlackFixture, type SlackFixtureOptions } from './slack-fixture.js';

/**
 * The set-up of the end-to-end tests where Meta's customers are answered from the Slack triage thread: the
 * Slack fixture (emulator, hub, account with its Slack installation) whose hub is also a Meta app on a local
 * Graph API, and the account's WhatsApp channel connected through the API with the number's token.
 */

export interface SlackWhatsAppFixtureOptions extends Omit<SlackFixtureOptions, 'env'> {
  /** The Meta app secret the hub checks webhooks with. */
  metaSecret: string;
  /** The WhatsApp Business number the Graph emulator serves and the account connects. */
  number: { id: string; token: string; wabaId?: string };
  graph?: Parameters<typeof GraphEmulator.start>[0];
}

export interface SlackWhatsAppFixture extends SlackFixture {
  graph: GraphEmulator;
  /** The account's WhatsApp channel. */
  whatsappChannelId: string;
  /** A body Meta sends (`whatsappWebhooks`, `messengerWebhooks`), signed with the app secret, to the hub's webhook of `kind`. */
  metaWebhook(kind: 'whatsapp' | 'messenger', body: unknown): Promise<LightMyRequestResponse>;
}

export async function startSlackWhatsAppFixture(opts: SlackWhatsAppFixtureOptions): Promise<SlackWhatsAppFixture> {
  const { metaSecret, number, graph: graphOptions, ...slack } = opts;
  const graph = await GraphEmulator.start(graphOptions);
  let f: SlackFixture | undefined;
  try {
    graph.addNumber(number);
    f = await startSlackFixture({
      ...slack,
      env: { HUMMDESK_META_APP_SECRET: metaSecret, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url },
    });
    const created = await f.t.app.inject({
      method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${f.acct.users.admin.token}` },
      payload: { kind: 'whatsapp', name: 'WhatsApp', externalKey: number.id, secrets: { accessToken: number.token } },
    });
    if (created.statusCode !== 201) throw new Error(`the WhatsApp channel was not created: ${created.statusCode} ${created.body}`);
    const fixture = f;
    return {
      ...fixture,
      graph,
      whatsappChannelId: created.json<{ id: string }>().id,
      metaWebhook: (kind, body) => {
        const signed = signedWebhook(metaSecret, body);
        return fixture.t.app.inject({ method: 'POST', url: `/webhooks/${kind}`, payload: signed.payload, headers: signed.headers });
      },
      close: async () => {
        // Meta's webhooks stop before the hub does.
        graph.webhookTarget = undefined;
        await fixture.close();
        await graph.close();
      },
    };
  } catch (err) {
    await f?.close();
    await graph.close();
    throw err;
  }
}
