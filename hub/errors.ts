/** Every client-visible failure carries a stable code; messages may change, codes may not. */
export class HubError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export const notFound = (what: string) => new HubError(404, `${what}_not_found`, `${what.replace(/_/g, ' ')} not found`);
export const forbidden = (message = 'your role may not do this') => new HubError(403, 'forbidden', message);
export const unauthorized = (message = 'authentication required', code = 'unauthorized') => new HubError(401, code, message);
export const badRequest = (code: string, message: string, details?: unknown) => new HubError(400, code, message, details);
export const conflict = (code: string, message: string) => new HubError(409, code, message);
