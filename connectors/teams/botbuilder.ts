import type { INetworkModule } from '@azure/msal-node';
import type { TeamsAppConfig } from './config.js';

/**
 * botbuilder's CloudAdapter for this app, loaded on demand (~1 s, ~95 MB): only a process with a Teams
 * installation pays for it, and only connectors/teams/ imports botbuilder, so a move to the Microsoft 365
 * Agents SDK stays here. Outbound tokens come from MSAL (secret or certificate) or a managed identity.
 */
export async function createCloudAdapter(config: TeamsAppConfig, opts: { networkClient?: INetworkModule } = {}) {
  const [botbuilder, connector] = await Promise.all([import('botbuilder'), import('botframework-connector')]);
  if (!config.appId) throw new Error('HUMMDESK_TEAMS_APP_ID is not set');
  const credentials =
    config.credential.kind === 'managed-identity'
      ? new connector.ManagedIdentityServiceClientCredentialsFactory(config.credential.clientId ?? config.appId, new connector.JwtTokenProviderFactory())
      : // botframework-connector types MSAL's CommonJS build; the client is the same class.
        new connector.MsalServiceClientCredentialsFactory(config.appId, (await (await import('./msal.js')).confidentialClient(config, opts)) as never);
  const loginUrl = config.authority.replace('{tenant}', config.tenantId ?? 'botframework.com').replace(/\/$/, '');
  const auth = connector.BotFrameworkAuthenticationFactory.create(
    '', // public cloud
    true,
    loginUrl,
    config.oauthScope.replace(/\/\.default$/, ''),
    config.issuer,
    'https://api.botframework.com',
    config.openIdMetadataUrl,
    config.openIdMetadataUrl,
    '',
    credentials,
    new connector.AuthenticationConfiguration(),
  );
  return { adapter: new botbuilder.CloudAdapter(auth), botbuilder };
}
