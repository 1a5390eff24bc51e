import { randomUUID } from 'node:crypto';
import { newKeyPair, signJwt, type BotConnectorEmulator, type EmulatedMember, type EmulatedTeam } from './emulator.js';
import type { Activity } from '../activity.js';

/** How a test wants the token spoiled; the default is a token Bot Framework would send. */
export interface TokenVariant {
  /** `exp` this many seconds ago (the 5-minute skew is on top). */
  expiredSecondsAgo?: number;
  /** `nbf` this many seconds ahead. */
  notBeforeInSeconds?: number;
  audience?: string;
  issuer?: string;
  /** Signed by a key the JWKS does not publish. */
  unknownKey?: boolean;
  /** Signed by the published key endorsed only for webchat/directline, not msteams. */
  unendorsed?: boolean;
  /** The `serviceurl` claim differs from the activity's. */
  serviceUrl?: string;
  /** The signature is spoiled after signing. */
  badSignature?: boolean;
}

export interface SignedActivity {
  body: Buffer;
  headers: Record<string, string>;
  activity: Activity;
}

/**
 * Test support: builds activities as Teams sends them to a bot (channel messages with `<at>` mentions,
 * Action.Submit fallbacks, `adaptiveCard/action` invokes, installs and removals, channel events) and signs
 * them the way Bot Framework does: an RS256 JWT from the emulator's msteams-endorsed key, issuer
 * `https://api.botframework.com`, audience = app id, `serviceurl` = the activity's serviceUrl.
 */
export class TeamsDriver {
  private readonly stranger = newKeyPair(['msteams']);
  private seq = 0;

  constructor(
    readonly emulator: BotConnectorEmulator,
    private readonly now: () => number = Date.now,
  ) {}

  token(serviceUrl: string, v: TokenVariant = {}): string {
    const now = Math.floor(this.now() / 1000);
    const exp = v.expiredSecondsAgo !== undefined ? now - v.expiredSecondsAgo : now + 3600;
    const claims = {
      serviceurl: v.serviceUrl ?? serviceUrl,
      nbf: v.notBeforeInSeconds !== undefined ? now + v.notBeforeInSeconds : now - 300,
      exp,
      iss: v.issuer ?? 'https://api.botframework.com',
      aud: v.audience ?? this.emulator.appId,
    };
    const key = v.unknownKey ? this.stranger : v.unendorsed ? this.emulator.keys.find((k) => !k.endorsements.includes('msteams'))! : this.emulator.keys[0]!;
    const jwt = signJwt(claims, key);
    if (!v.badSignature) return jwt;
    const [h, p, s] = jwt.split('.');
    const sig = Buffer.from(s!, 'base64url');
    sig[0] = sig[0]! ^ 0xff;
    return `${h}.${p}.${sig.toString('base64url')}`;
  }

  sign(activity: Activity, v: TokenVariant = {}): SignedActivity {
    const body = Buffer.from(JSON.stringify(activity));
    return { body, activity, headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${this.token(activity.serviceUrl ?? '', v)}` } };
  }

  private base(team: EmulatedTeam | undefined, conversationId: string, from?: EmulatedMember): Activity {
    const id = String(this.now() * 1000 + (++this.seq % 1000));
    return {
      type: 'message',
      id,
      timestamp: new Date(this.now()).toISOString(),
      channelId: 'msteams',
      serviceUrl: this.emulator.serviceUrl,
      from: from ? { id: from.id, name: from.name, aadObjectId: from.aadObjectId } : { id: '29:unknown', name: 'Someone' },
      conversation: { id: conversationId, conversationType: team ? 'channel' : 'personal', tenantId: team?.tenantId, isGroup: !!team },
      recipient: { id: this.emulator.botId, name: 'HummDesk' },
      channelData: team
        ? { teamsChannelId: conversationId.split(';')[0], teamsTeamId: team.id, channel: { id: conversationId.split(';')[0] }, team: { id: team.id, name: team.name, aadGroupId: team.aadGroupId }, tenant: { id: team.tenantId } }
        : { tenant: { id: randomUUID() } },
    };
  }

  /** A person's message in a channel thread (`rootId`) or as a new post; `mentionBot` puts `<at>HummDesk</at>` first. */
  message(team: EmulatedTeam, channelId: string, text: string, opts: { rootId?: string; from?: EmulatedMember; mentionBot?: boolean; mention?: EmulatedMember } = {}): Activity {
    const conv = opts.rootId ? `${channelId};messageid=${opts.rootId}` : channelId;
    const a = this.base(team, conv, opts.from);
    const entities: NonNullable<Activity['entities']> = [];
    let body = text;
    if (opts.mention) {
      body = `<at>${opts.mention.name}</at> ${body}`;
      entities.push({ type: 'mention', mentioned: { id: opts.mention.id, name: opts.mention.name }, text: `<at>${opts.mention.name}</at>` });
    }
    if (opts.mentionBot) {
      body = `<at>HummDesk</at> ${body}`;
      entities.push({ type: 'mention', mentioned: { id: this.emulator.botId, name: 'HummDesk' }, text: '<at>HummDesk</at>' });
    }
    entities.push({ type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/Helsinki' });
    // A new post's id is its thread root.
    const conversationId = opts.rootId ? conv : `${channelId};messageid=${a.id}`;
    return { ...a, conversation: { ...a.conversation!, id: conversationId }, text: body, textFormat: 'plain', entities,
      attachments: [{ contentType: 'text/html', content: `<p>${body}</p>` }] };
  }

  /** What Teams sends when an Action.Submit (the fallback of Action.Execute) is clicked on the bot's card. */
  submit(team: EmulatedTeam, channelId: string, rootId: string, replyToId: string, value: Record<string, unknown>, from?: EmulatedMember): Activity {
    const a = this.base(team, `${channelId};messageid=${rootId}`, from);
    return { ...a, id: `f:${randomUUID()}`, replyToId, value, channelData: { ...a.channelData, source: { name: 'message' } } };
  }

  /** An Action.Execute click: invoke `adaptiveCard/action`. */
  invoke(team: EmulatedTeam, channelId: string, rootId: string, replyToId: string, verb: string, data: Record<string, unknown> = {}, from?: EmulatedMember): Activity {
    const a = this.base(team, `${channelId};messageid=${rootId}`, from);
    return { ...a, type: 'invoke', name: 'adaptiveCard/action', id: `f:${randomUUID()}`, replyToId, value: { action: { type: 'Action.Execute', id: verb, verb, data }, trigger: 'manual' } };
  }

  /** Any other invoke (task/fetch, composeExtension/query, …). */
  otherInvoke(team: EmulatedTeam, name: string, value: unknown = {}): Activity {
    const a = this.base(team, team.id);
    return { ...a, type: 'invoke', name, value };
  }

  /** The bot is added to a team: conversationUpdate with the bot in membersAdded, eventType teamMemberAdded. */
  installed(team: EmulatedTeam, by?: EmulatedMember): Activity {
    const a = this.base(team, team.id, by);
    return { ...a, type: 'conversationUpdate', membersAdded: [{ id: this.emulator.botId }], channelData: { ...a.channelData, eventType: 'teamMemberAdded' } };
  }

  removed(team: EmulatedTeam, by?: EmulatedMember): Activity {
    const a = this.base(team, team.id, by);
    return { ...a, type: 'conversationUpdate', membersRemoved: [{ id: this.emulator.botId }], channelData: { ...a.channelData, eventType: 'teamMemberRemoved' } };
  }

  /** installationUpdate `add` / `remove`, which Teams sends beside the conversationUpdate. */
  installationUpdate(team: EmulatedTeam, action: 'add' | 'remove' | 'add-upgrade' | 'remove-upgrade'): Activity {
    const a = this.base(team, team.id);
    return { ...a, type: 'installationUpdate', action };
  }

  channelEvent(team: EmulatedTeam, eventType: 'channelCreated' | 'channelDeleted' | 'channelRenamed' | 'channelRestored', channel: { id: string; name?: string }): Activity {
    const a = this.base(team, team.id);
    return { ...a, type: 'conversationUpdate', channelData: { ...a.channelData, eventType, channel } };
  }
}
