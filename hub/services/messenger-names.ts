import type { ChannelInstallation, InboundEvent } from '../../connectors/core/types.js';
import { displayName } from '../../connectors/core/text.js';
import type { Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import type { Hub } from '../context.js';
import type { IngestOutcome } from './ingest.js';

/** How long a User Profile API answer is used before it is asked again (people rename themselves). */
export const MESSENGER_PROFILE_TTL_MS = 30 * 24 * 3600_000;
const REMEMBERED = 10_000;

interface ProfileSource {
  profile(channel: ChannelInstallation, psid: string): Promise<{ firstName: string | null; lastName: string | null }>;
}

/**
 * Messenger customers' names: Messenger webhooks carry only a PSID, so after a customer's message is
 * committed the User Profile API is asked for their name once per Page and customer (`messenger_profiles`,
 * migration 320), and the contact without a name gets it. Off the webhook's answer: a slow or failing
 * lookup never holds a message; a failed one is not kept, so the customer's next message asks again.
 */
export class MessengerNames {
  /** Page and customer pairs whose answer this process already applied (bounded; the table is the cache). */
  private readonly applied = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly hub: Pick<Hub, 'db' | 'log' | 'connectors'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** After an ingest: a name lookup for the sender of each new inbound message not named yet. */
  afterIngest(channel: ChannelInstallation, events: InboundEvent[], outcomes: IngestOutcome[]): void {
    const psids = new Set<string>();
    for (const [i, e] of events.entries())
      if (e.type === 'message' && e.message.direction === 'inbound' && outcomes[i]?.result === 'created' && !e.message.sender.displayName) psids.add(e.message.sender.externalId);
    for (const psid of psids) void this.name(channel, psid);
  }

  /** Names the customer `psid` of the Page `channel` (one lookup at a time per pair); never throws. */
  name(channel: ChannelInstallation, psid: string): Promise<void> {
    const key = `${channel.id}|${psid}`;
    if ((this.applied.get(key) ?? -Infinity) > this.now().getTime() - MESSENGER_PROFILE_TTL_MS) return Promise.resolve();
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.lookUp(channel, psid)
      .then(() => this.remember(key))
      .catch((err: unknown) => this.hub.log.warn({ err, channelId: channel.id }, 'messenger: the customer\'s name could not be looked up; asked again with their next message'))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  /** Every lookup started so far has ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight.values());
  }

  private async lookUp(channel: ChannelInstallation, psid: string): Promise<void> {
    const { db } = this.hub;
    const since = new Date(this.now().getTime() - MESSENGER_PROFILE_TTL_MS);
    const cached = await withAccount(db, channel.accountId, async (tx) => {
      const row = (await tx.query<{ first_name: string | null; last_name: string | null }>(
        `SELECT first_name, last_name FROM messenger_profiles WHERE channel_id = $1 AND psid = $2 AND fetched_at > $3`, [channel.id, psid, since],
      )).rows[0];
      if (row) await nameContact(tx, channel.id, psid, row.first_name, row.last_name);
      return !!row;
    });
    if (cached) return;
    const source = this.hub.connectors.get('messenger') as unknown as ProfileSource | undefined;
    if (!source?.profile) return;
    const p = await source.profile(channel, psid);
    await withAccount(db, channel.accountId, async (tx) => {
      await tx.query(
        `INSERT INTO messenger_profiles (account_id, channel_id, psid, first_name, last_name, fetched_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (channel_id, psid) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, fetched_at = EXCLUDED.fetched_at`,
        [channel.accountId, channel.id, psid, p.firstName, p.lastName, this.now()],
      );
      await nameContact(tx, channel.id, psid, p.firstName, p.lastName);
    });
  }

  private remember(key: string): void {
    if (this.applied.size >= REMEMBERED) this.applied.clear();
    this.applied.set(key, this.now().getTime());
  }
}

/** The customer's identity and contact get the name where they have none (an agent's edit is never overwritten). */
async function nameContact(tx: Queryable, channelId: string, psid: string, first: string | null, last: string | null): Promise<void> {
  const full = [first, last].filter(Boolean).join(' ');
  if (!full) return;
  const name = displayName(full);
  const { rows } = await tx.query<{ contact_id: string }>(
    `UPDATE contact_identities SET display_name = $3 WHERE channel_id = $1 AND external_id = $2 AND display_name IS NULL RETURNING contact_id`, [channelId, psid, name],
  );
  for (const r of rows) await tx.query(`UPDATE contacts SET name = $2 WHERE id = $1 AND name IS NULL`, [r.contact_id, name]);
}

const perHub = new WeakMap<object, MessengerNames>();

/** The hub's one MessengerNames. */
export function messengerNamesOf(hub: Pick<Hub, 'db' | 'log' | 'connectors'>): MessengerNames {
  let names = perHub.get(hub);
  if (!names) perHub.set(hub, (names = new MessengerNames(hub)));
  return names;
}
