import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { Hub } from './context.js';
import { WebchatConnector } from '../connectors/webchat/connector.js';
import { EmailConnector } from '../connectors/email/connector.js';
import { WhatsAppConnector } from '../connectors/whatsapp/connector.js';
import { MessengerConnector } from '../connectors/messenger/connector.js';
import { WhatsAppWebConnector } from '../connectors/whatsapp/web/connector.js';
import { databaseSessionStore } from './whatsapp-web/session-store.js';
import { listenerIsLive } from './whatsapp-web/link.js';
import { withAccount } from '../storage/session.js';
import { watchMetaHealth } from './services/meta-health.js';

/** The channel connectors this hub runs; each channel adds its line here. */
export function installConnectors(hub: Hub): void {
  hub.connectors.set('webchat', new WebchatConnector());
  hub.connectors.set('email', new EmailConnector({
    egress: hub.egress,
    returnPathKey: emailReturnPathKey(hub.config.secretKey),
    onError: (err, attempt) => hub.log.warn({ err, attempt }, 'email listener disconnected; reconnecting'),
  }));
  // Always on: without HUMMDESK_META_APP_SECRET every POST is refused (401), so nothing unsigned is ever read.
  // A refused token (190) or a removed number or Page marks the channel disconnected until Meta accepts a call again.
  hub.connectors.set('whatsapp', watchMetaHealth(hub, new WhatsAppConnector(hub.config.meta)));
  hub.connectors.set('messenger', watchMetaHealth(hub, new MessengerConnector(hub.config.meta)));
  // A linked phone (unofficial); whatsapp-web.js and puppeteer load only when a listener starts one.
  const waWeb = hub.config.whatsappWeb ?? { executablePath: '/usr/bin/chromium', dataDir: join(hub.config.dataDir, 'whatsapp-web') };
  hub.connectors.set('whatsapp-web', new WhatsAppWebConnector({
    ...waWeb,
    remoteStore: (channel) => databaseSessionStore(hub, channel, join(waWeb.dataDir, 'remote')),
    heldElsewhere: (channel) => withAccount(hub.db, channel.accountId, (tx) => listenerIsLive(tx, channel.id)),
    log: (level, msg, data) => hub.log[level](data ?? {}, msg),
  }));
}

/** The key email return paths (VERP) are signed with, derived from the hub's secret key for this one use. */
export function emailReturnPathKey(secretKey: Buffer): Buffer {
  return createHmac('sha256', secretKey).update('hummdesk email return path').digest();
}
