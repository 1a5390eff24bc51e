import type { Hub } from './context.js';
import { WebchatConnector } from '../connectors/webchat/connector.js';
import { EmailConnector } from '../connectors/email/connector.js';

/** The channel connectors this hub runs; each channel adds its line here. */
export function installConnectors(hub: Hub): void {
  void hub;
  hub.connectors.set('webchat', new WebchatConnector());
  hub.connectors.set('email', new EmailConnector({ onError: (err, attempt) => hub.log.warn({ err, attempt }, 'email listener disconnected; reconnecting') }));
}
