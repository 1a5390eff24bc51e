import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ConfidentialClientApplication, INetworkModule } from '@azure/msal-node';
import { AuthError } from '../core/errors.js';
import type { TeamsAppConfig } from './config.js';
import type { TokenSource } from './client.js';

// Loaded only for certificate or managed-identity credentials, or by the CloudAdapter: MSAL and Azure Identity are heavy.

function authorityOf(config: Pick<TeamsAppConfig, 'authority' | 'tenantId'>): string {
  return config.authority.replace('{tenant}', config.tenantId ?? 'botframework.com').replace(/\/$/, '');
}

/** The PEM file holds the private key and the certificate; Entra knows the certificate by its SHA-256 thumbprint. */
function certificateOf(path: string, thumbprint?: string): { privateKey: string; thumbprintSha256: string; x5c?: string } {
  const pem = readFileSync(path, 'utf8');
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!key) throw new AuthError('teams', `${path} holds no PEM private key`);
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const computed = cert ? new X509Certificate(cert).fingerprint256.replace(/:/g, '') : undefined;
  const thumbprintSha256 = thumbprint ?? computed;
  if (!thumbprintSha256) throw new AuthError('teams', `${path} holds no certificate and HUMMDESK_TEAMS_CERTIFICATE_THUMBPRINT is not set`);
  return { privateKey: key, thumbprintSha256, ...(cert ? { x5c: cert } : {}) };
}

/**
 * MSAL's confidential client for the app (secret or certificate). `networkClient` routes MSAL's requests
 * (tests: to the emulator, which MSAL would refuse over plain http).
 */
export async function confidentialClient(config: TeamsAppConfig, opts: { networkClient?: INetworkModule } = {}): Promise<ConfidentialClientApplication> {
  const { ConfidentialClientApplication } = await import('@azure/msal-node');
  const credential = config.credential;
  const auth =
    credential.kind === 'certificate'
      ? { clientCertificate: certificateOf(credential.certificatePath, credential.thumbprint) }
      : credential.kind === 'secret' && credential.secret
        ? { clientSecret: credential.secret }
        : undefined;
  if (!auth) throw new AuthError('teams', 'the Teams app has neither a client secret nor a certificate for MSAL');
  return new ConfidentialClientApplication({
    auth: { clientId: config.appId ?? '', authority: authorityOf(config), ...auth },
    system: opts.networkClient ? { networkClient: opts.networkClient } : undefined,
  });
}

export async function sdkTokenSource(config: TeamsAppConfig, opts: { networkClient?: INetworkModule } = {}): Promise<TokenSource> {
  if (config.credential.kind === 'managed-identity') {
    const { ManagedIdentityCredential } = await import('@azure/identity');
    const clientId = config.credential.clientId;
    const mi = clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
    return {
      async token() {
        const t = await mi.getToken(config.oauthScope);
        if (!t) throw new AuthError('teams', 'the managed identity returned no token');
        return t.token;
      },
    };
  }
  const cca = await confidentialClient(config, opts);
  return {
    async token() {
      // MSAL caches the token and renews it ahead of expiry.
      const r = await cca.acquireTokenByClientCredential({ scopes: [config.oauthScope] });
      if (!r?.accessToken) throw new AuthError('teams', 'MSAL returned no token');
      return r.accessToken;
    },
  };
}
