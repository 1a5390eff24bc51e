/** The hub's one Teams bot (an Azure Bot registration), from the environment; installations per tenant live in the store. */
export interface TeamsAppConfig {
  /** Microsoft App ID of the bot (a GUID); unset, every Teams request is refused (`teams_not_configured`). */
  appId?: string;
  /** Entra tenant of a single-tenant app; unset, the multi-tenant `botframework.com` authority (old bots). */
  tenantId?: string;
  /** How the bot gets its outbound token: a client secret, a certificate, or a managed identity. */
  credential: { kind: 'secret'; secret?: string } | { kind: 'certificate'; certificatePath: string; thumbprint?: string } | { kind: 'managed-identity'; clientId?: string };
  /** Where Bot Framework publishes its signing keys (inbound). */
  openIdMetadataUrl: string;
  /** The `iss` inbound tokens must carry. */
  issuer: string;
  /** The Entra authority outbound tokens come from (`{tenant}` is replaced by the tenant, else `botframework.com`). */
  authority: string;
  /** The scope outbound tokens are requested for. */
  oauthScope: string;
  /** Extra serviceUrl origins trusted beside Microsoft's hosts (a local emulator in tests); `https://host[:port]` or `http://127.0.0.1:port`. */
  testServiceOrigins: string[];
}

type Env = Record<string, string | undefined>;

export const BOT_FRAMEWORK_OPENID_METADATA = 'https://login.botframework.com/v1/.well-known/openidconfiguration';
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
export const BOT_FRAMEWORK_AUTHORITY = 'https://login.microsoftonline.com/{tenant}';
export const BOT_FRAMEWORK_SCOPE = 'https://api.botframework.com/.default';

export function teamsConfigFromEnv(env: Env): TeamsAppConfig {
  const credential: TeamsAppConfig['credential'] = env.HUMMDESK_TEAMS_CERTIFICATE_PATH
    ? { kind: 'certificate', certificatePath: env.HUMMDESK_TEAMS_CERTIFICATE_PATH, thumbprint: env.HUMMDESK_TEAMS_CERTIFICATE_THUMBPRINT || undefined }
    : env.HUMMDESK_TEAMS_MANAGED_IDENTITY === 'true'
      ? { kind: 'managed-identity', clientId: env.HUMMDESK_TEAMS_MANAGED_IDENTITY_CLIENT_ID || undefined }
      : { kind: 'secret', secret: env.HUMMDESK_TEAMS_APP_PASSWORD || undefined };
  return {
    appId: env.HUMMDESK_TEAMS_APP_ID || undefined,
    tenantId: env.HUMMDESK_TEAMS_APP_TENANT_ID || undefined,
    credential,
    openIdMetadataUrl: env.HUMMDESK_TEAMS_OPENID_METADATA_URL || BOT_FRAMEWORK_OPENID_METADATA,
    issuer: env.HUMMDESK_TEAMS_ISSUER || BOT_FRAMEWORK_ISSUER,
    authority: env.HUMMDESK_TEAMS_AUTHORITY || BOT_FRAMEWORK_AUTHORITY,
    oauthScope: env.HUMMDESK_TEAMS_OAUTH_SCOPE || BOT_FRAMEWORK_SCOPE,
    testServiceOrigins: (env.HUMMDESK_TEAMS_TEST_SERVICE_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(origin),
  };
}

/** Named like hub/config.ts's ConfigError so `hummdesk` reports it as a setting to fix, in one line. */
export class TeamsConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function origin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TeamsConfigError('invalid_teams_test_origin', `HUMMDESK_TEAMS_TEST_SERVICE_ORIGINS: "${value}" is not a URL (invalid_teams_test_origin)`);
  }
  if (url.origin === 'null' || url.pathname.length > 1 || url.search) throw new TeamsConfigError('invalid_teams_test_origin', `HUMMDESK_TEAMS_TEST_SERVICE_ORIGINS: "${value}" must be an origin such as http://127.0.0.1:4000 (invalid_teams_test_origin)`);
  return url.origin;
}

/** The token endpoint of the configured authority for this app. */
export function tokenEndpoint(config: Pick<TeamsAppConfig, 'authority' | 'tenantId'>): string {
  const authority = config.authority.replace('{tenant}', config.tenantId ?? 'botframework.com').replace(/\/$/, '');
  return `${authority}/oauth2/v2.0/token`;
}
