import { WebClient, LogLevel, ErrorCode, type WebAPICallError } from '@slack/web-api';
import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../core/errors.js';
import { SLACK_CLIENT_TIMEOUT_MS } from './rate-limits.js';
import { slackFetch } from './http.js';

export interface SlackClientOptions {
  /** Base of the Web API, ending in `/`; tests point it at the local emulator. */
  slackApiUrl?: string;
  timeoutMs?: number;
}

/**
 * One WebClient per bot token. Retries are ours (job queue with Retry-After), never the client's:
 * a blind retry inside the client could post a message twice.
 */
export class SlackClients {
  private readonly cache = new Map<string, WebClient>();
  constructor(private readonly opts: SlackClientOptions = {}) {}

  get apiUrl(): string {
    return this.opts.slackApiUrl ?? 'https://slack.com/api/';
  }

  for(token: string | undefined): WebClient {
    const key = token ?? '';
    let client = this.cache.get(key);
    if (!client) {
      client = new WebClient(token, {
        slackApiUrl: this.apiUrl,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: this.opts.timeoutMs ?? SLACK_CLIENT_TIMEOUT_MS,
        logLevel: LogLevel.ERROR,
        allowAbsoluteUrls: false,
        fetch: slackFetch,
      });
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(key, client);
    }
    return client;
  }
}

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope', 'no_permission', 'ekm_access_denied']);

/** Maps a WebClient failure onto the connector error classes the delivery worker understands. */
export function toConnectorError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = err as Partial<WebAPICallError> & { message?: string };
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new RateLimitError('slack', Math.max(1, (e as { retryAfter?: number }).retryAfter ?? 1) * 1000);
    case ErrorCode.PlatformError: {
      const code = (e as { data?: { error?: string } }).data?.error ?? 'unknown_error';
      if (AUTH_ERRORS.has(code)) return new AuthError('slack', `Slack refused the token: ${code}`);
      if (code === 'ratelimited') return new RateLimitError('slack', 1000);
      if (code === 'internal_error' || code === 'fatal_error' || code === 'service_unavailable' || code === 'request_timeout')
        return new ConnectorError(`Slack error: ${code}`, 'slack', 'channel_server_error');
      return new PermanentError('slack', `Slack refused the call: ${code}`, `slack_${code}`.slice(0, 60).replace(/[^a-z_]/g, '_'));
    }
    case ErrorCode.HTTPError: {
      const status = (e as { statusCode?: number }).statusCode ?? 0;
      if (status === 401 || status === 403) return new AuthError('slack', `Slack answered HTTP ${status}`);
      return new ConnectorError(`Slack answered HTTP ${status}`, 'slack', 'channel_server_error');
    }
    case ErrorCode.RequestError:
      return new TransientError('slack', `request to Slack failed: ${(e as { original?: Error }).original?.message ?? e.message ?? 'unknown'}`);
    default:
      return new ConnectorError(e.message ?? String(err), 'slack', 'slack_client_error');
  }
}

/** The Slack error code (`not_in_channel`, `channel_not_found`…) of a platform error, if it is one. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: string } };
  return e.code === ErrorCode.PlatformError ? e.data?.error : undefined;
}
