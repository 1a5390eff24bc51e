import { createHash } from 'node:crypto';
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

  findRoot(install: TeamsInstall, channel: string, conversationId: string, since: Date): Promise<Found> {
    const url = `${this.o.graphUrl}/v1.0/teams/${encodeURIComponent(install.teamId)}/channels/${encodeURIComponent(channel)}/messages?$top=50`;
    return this.search(install, url, since, (m) => !m.replyToId && (m.attachments ?? []).some((a) => typeof a.content === 'string' && a.content.includes(conversationId)));
  }

  /**
   * A thread reply an earlier attempt posted but did not record (a 502/504 after Teams posted it): a post of
   * our app under `rootId`, created in the attempt's window, whose text has the digest the attempt recorded
   * (replyDigest), and that no other post of ours was recorded as (`recorded`). Graph lists a message's
   * replies (`…/messages/{id}/replies`) with the same consent.
   */
  findReply(install: TeamsInstall, channel: string, rootId: string, digest: string, since: Date, recorded: Set<string>): Promise<Found> {
    const url = `${this.o.graphUrl}/v1.0/teams/${encodeURIComponent(install.teamId)}/channels/${encodeURIComponent(channel)}/messages/${encodeURIComponent(rootId)}/replies?$top=50`;
    return this.search(install, url, since, (m) => !recorded.has(m.id) && m.body?.content !== undefined && replyDigest(graphText(m.body.content ?? '', m.body.contentType)) === digest, false);
  }

  /** `newestFirst`: the list is newest first, so a page that reaches before the window ends the search (replies come in no stated order). */
  private async search(install: TeamsInstall, first: string, since: Date, match: (m: GraphMessage) => boolean, newestFirst = true): Promise<Found> {
    let url: string | undefined = first;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      let res: Response;
      try {
        res = await (this.o.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${await this.o.tokens.token()}` }, signal: AbortSignal.timeout(30_000) });
      } catch {
        return { unsure: true, retryInMs: 5000 };
      }
      if (res.status === 429 || res.status >= 500) return { unsure: true, retryInMs: Math.max(1000, retryAfterMs(res.headers.get('retry-after'))) };
      if (!res.ok) {
        this.o.warn?.({ status: res.status, team: install.teamId }, 'teams: Graph refused to list the channel (no ChannelMessage.Read.Group consent?); a post whose result was not recorded is posted again');
        return { absent: true };
      }
      const body = (await res.json()) as { value?: GraphMessage[]; '@odata.nextLink'?: string };
      let older = false;
      for (const m of body.value ?? []) {
        if (Date.parse(m.createdDateTime ?? '') < since.getTime()) {
          older = true;
          continue;
        }
        if (m.from?.application?.id !== this.o.appId) continue;
        if (match(m)) return { found: m.id };
      }
      // Newest first: a page that reached before the window ends the search.
      if (older && newestFirst) return { absent: true };
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
  body?: { contentType?: string; content?: string | null };
}

/** Whitespace-insensitive digest of a thread post's text, kept on its intent as the call goes out. */
export function replyDigest(text: string): string {
  return createHash('sha256').update(text.replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 32);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The plain text of a Graph message body: Teams stores a bot's plain text as HTML (line breaks, emoji elements, links). */
export function graphText(content: string, contentType = 'html'): string {
  if (contentType !== 'html') return content;
  return content
    .replace(/<emoji\b[^>]*\balt="([^"]*)"[^>]*>(?:<\/emoji>)?/gi, '$1')
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) =>
      e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e.toLowerCase()] ?? all);
}
