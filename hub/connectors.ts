import { createHmac } from 'node:crypto';
import type { Hub } from './context.js';
import { WebchatConnector } from '../connectors/webchat/connector.js';
import { EmailConnector } from '../connectors/email/connector.js';
import { WhatsAppConnector } from '../connectors/whatsapp/connector.js';
import { MessengerConnector } from '../connectors/messenger/connector.js';

/** The channel connectors this hub runs; each channel adds its line here. */
export function installConnectors(hub: Hub): void {
  hub.connectors.set('webchat', new WebchatConnector());
  hub.connectors.set('email', new EmailConnector({
    egress: hub.egress,
    returnPathKey: emailReturnPathKey(hub.config.secretKey),
    onError: (err, attempt) => hub.log.warn({ err, attempt }, 'email listener disconnected; reconnecting'),
  }));
  // Always on: without HUMMDESK_META_APP_SECRET every POST is refused (401), so nothing unsigned is ever read.
  hub.connectors.set('whatsapp', new WhatsAppConnector(hub.config.meta));
  hub.connectors.set('messenger', new MessengerConnector(hub.config.meta));
}

/** The key email return paths (VERP) are signed with, derived from the hub's secret key for this one use. */
export function emailReturnPathKey(secretKey: Buffer): Buffer {
  return createHmac('sha256', secretKey).update('hummdesk email return path').digest();
}
