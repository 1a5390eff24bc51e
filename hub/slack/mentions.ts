import type { ChannelInstallation } from '../../connectors/core/types.js';
import type { SlackClients } from '../../connectors/slack/client.js';
import { oneLineName } from '../../connectors/slack/text.js';

/** How long a users.info answer names a Slack user. */
const NAME_TTL_MS = 60 * 60_000;
/** What a mention shows when Slack cannot say who it is: never the raw user id. */
export const UNKNOWN_MENTION = 'colleague';

/**
 * Names behind the user mentions (`<@U…>`) of an agent's Slack message, so the customer of an e-mail or
 * web chat reads "@Aino Agent", not "@U07ABC". Answers of users.info are cached; failures are not.
 */
export class SlackMentionNames {
  private readonly names = new Map<string, { name: string; at: number }>();
  constructor(
    private readonly clients: SlackClients,
    private readonly now: () => number = Date.now,
  ) {}

  /** Slack wire text with every unlabelled user mention labelled `<@U…|Name>` (slackToPlain then shows `@Name`). */
  async label(install: ChannelInstallation, text: string): Promise<string> {
    const ids = [...new Set([...text.matchAll(/<@([UW][A-Z0-9]+)>/g)].map((m) => m[1]!))].slice(0, 50);
    if (!ids.length) return text;
    const names = new Map(await Promise.all(ids.map(async (id) => [id, await this.nameOf(install, id)] as const)));
    return text.replace(/<@([UW][A-Z0-9]+)>/g, (whole, id: string) => {
      const name = names.get(id) ?? UNKNOWN_MENTION;
      // A name must not close or split the token it sits in.
      return `<@${id}|${name.replace(/[<>|]/g, '')}>`;
    });
  }

  private async nameOf(install: ChannelInstallation, userId: string): Promise<string | undefined> {
    const key = `${install.externalKey}:${userId}`;
    const now = this.now();
    const cached = this.names.get(key);
    if (cached && now - cached.at < NAME_TTL_MS) return cached.name;
    const info = await this.clients.for(install.secrets.botToken).users.info({ user: userId }).catch(() => undefined);
    const user = info?.user;
    const name = oneLineName(user?.profile?.real_name || user?.real_name || user?.profile?.display_name || user?.name || '').slice(0, 200);
    if (!name) return undefined;
    if (this.names.size >= 10_000) this.names.clear();
    this.names.set(key, { name, at: now });
    return name;
  }
}
