import { retryAfterMs, type TokenSource } from '../../connectors/teams/client.js';
import type { Found } from '../surfaces/intents.js';
import type { TeamsInstall, TeamsPostFinder } from './surface.js';

/** Pages of 50 messages read at most per search; past that the card is taken as not posted. */
const MAX_PAGES = 10;

/**
 * Finds a root card an earlier attempt posted but did not record (a crash between the post and its
 * record, a gateway timeout): the Bot Connector cannot list a channel, Microsoft Graph can
 * (`GET /teams/{team}/channels/{channel}/messages`, root posts, newest first) with the app's resource-specific
 * consent `ChannelMessage.Read.Group` in that team. Ours are the posts of our app whose card names the
 * conversation (its link and every button carry the conversation id), created in the attempt's window.
 * Without the consent (403) nothing can be found: the card is posted again, and a warning says why.
 */
export class GraphPostFinder implements TeamsPostFinder {
  constructor(
    private readonly o: { tokens: TokenSource; graphUrl: string; appId: string; fetch?: typeof fetch; warn?: (obj: unknown, msg: string) => void },
  ) {}

  async findRoot(install: TeamsInstall, channel: string, conversationId: string, since: Date): Promise<Found> {
    let url: string | undefined = `${this.o.graphUrl}/v1.0/teams/${encodeURIComponent(install.teamId)}/channels/${encodeURIComponent(channel)}/messages?$top=50`;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      let res: Response;
      try {
        res = await (this.o.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${await this.o.tokens.token()}` }, signal: AbortSignal.timeout(30_000) });
      } catch {
        return { unsure: true, retryInMs: 5000 };
      }
      if (res.status === 429 || res.status >= 500) return { unsure: true, retryInMs: Math.max(1000, retryAfterMs(res.headers.get('retry-after'))) };
      if (!res.ok) {
        this.o.warn?.({ status: res.status, team: install.teamId }, 'teams: Graph refused to list the channel (no ChannelMessage.Read.Group consent?); a card whose post was not recorded is posted again');
        return { absent: true };
      }
      const body = (await res.json()) as { value?: GraphMessage[]; '@odata.nextLink'?: string };
      let older = false;
      for (const m of body.value ?? []) {
        if (Date.parse(m.createdDateTime ?? '') < since.getTime()) {
          older = true;
          continue;
        }
        if (m.from?.application?.id !== this.o.appId || m.replyToId) continue;
        if ((m.attachments ?? []).some((a) => typeof a.content === 'string' && a.content.includes(conversationId))) return { found: m.id };
      }
      // Newest first: a page that reached before the window ends the search.
      if (older) return { absent: true };
      url = body['@odata.nextLink'];
    }
    return { absent: true };
  }
}

interface GraphMessage {
  id: string;
  replyToId?: string | null;
  createdDateTime?: string;
  from?: { application?: { id?: string } | null } | null;
  attachments?: { contentType?: string; content?: string | null }[];
}
