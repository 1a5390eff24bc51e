/** Typed connector failures; the delivery worker decides retry vs. fail from the class, not the message. */

export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly connector: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

export class VerificationError extends ConnectorError {
  constructor(connector: string, message: string, code = 'webhook_signature_invalid') {
    super(message, connector, code);
    this.name = 'VerificationError';
  }
}

export class RateLimitError extends ConnectorError {
  constructor(
    connector: string,
    readonly retryAfterMs: number,
  ) {
    super(`rate limited by ${connector}; retry after ${retryAfterMs} ms`, connector, 'channel_rate_limited');
    this.name = 'RateLimitError';
  }
}

export class AuthError extends ConnectorError {
  constructor(connector: string, message: string) {
    super(message, connector, 'channel_auth_failed');
    this.name = 'AuthError';
  }
}

/** The channel refused the message for good (invalid recipient, 5xx SMTP, outside reply window). */
export class PermanentError extends ConnectorError {
  constructor(connector: string, message: string, code = 'channel_rejected') {
    super(message, connector, code);
    this.name = 'PermanentError';
  }
}

/** The request never reached a verdict (timeout, reset): whether it was delivered is unknown. */
export class TransientError extends ConnectorError {
  constructor(connector: string, message: string, code = 'channel_unavailable') {
    super(message, connector, code);
    this.name = 'TransientError';
  }
}

/** Failed before the message itself went out (a media upload, say): nothing reached the customer, so a retry is safe. */
export class NotSentError extends TransientError {
  constructor(connector: string, message: string, code = 'channel_unavailable') {
    super(connector, message, code);
    this.name = 'NotSentError';
  }
}
