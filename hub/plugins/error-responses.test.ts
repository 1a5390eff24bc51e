import { describe, expect, it } from 'vitest';
import { errorStatusesOf, notFoundCodes } from './error-responses.js';

describe('error answers derived from a route', () => {
  it('names what each path id may not find', () => {
    expect(notFoundCodes('/api/v1/teams/:id/members/:userId')).toEqual(['team_not_found', 'user_not_found']);
    expect(notFoundCodes('/api/v1/conversations/:id/drafts/:draftId/reject')).toEqual(['conversation_not_found', 'draft_not_found']);
    expect(notFoundCodes('/api/v1/api-keys/:id')).toEqual(['api_key_not_found']);
    expect(notFoundCodes('/webchat/:widgetId/messages')).toEqual(['channel_not_found']);
    expect(notFoundCodes('/api/v1/teams')).toEqual([]);
  });

  it('lists only the statuses a route can answer', () => {
    expect(errorStatusesOf({ method: 'GET', url: '/ready', schema: { security: [] }, config: { rateLimit: false } })).toEqual([400]);
    expect(errorStatusesOf({ method: 'GET', url: '/api/v1/teams', schema: {} })).toEqual([400, 401, 403, 429]);
    expect(errorStatusesOf({ method: 'PATCH', url: '/api/v1/teams/:id', schema: {} })).toEqual([400, 401, 403, 404, 409, 413, 414, 415, 429]);
    // Public, but the credential is in the body.
    expect(errorStatusesOf({ method: 'POST', url: '/api/v1/auth/login', schema: { security: [] } })).toContain(401);
  });
});
