import type { Connector, WebhookRequest } from '../../connectors/core/types.js';
import { VerificationError } from '../../connectors/core/errors.js';
import { HubError } from '../errors.js';

/** The connector's signature check; a refused request is a 401 carrying the connector's code. */
export async function verifyInbound(connector: Connector, req: WebhookRequest): Promise<void> {
  try {
    await connector.verify(req);
  } catch (err) {
    if (err instanceof VerificationError) throw new HubError(401, err.code, err.message);
    throw err;
  }
}
