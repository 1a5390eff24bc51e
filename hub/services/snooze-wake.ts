import { dueSnoozes } from '../../storage/repositories/conversations.js';
import type { Hub } from '../context.js';

export interface SnoozeWake {
  /** Wakes every conversation due now (or joins the round running); resolves to how many woke. */
  run(): Promise<number>;
  stop(): Promise<void>;
}

/** Wakes each due conversation through the service, so it is audited, mirrored and seen live like any change. */
export async function wakeDueConversations(hub: Pick<Hub, 'db' | 'conversations' | 'log'>): Promise<number> {
  let woke = 0;
  for (const due of await dueSnoozes(hub.db)) {
    try {
      if (await hub.conversations.wakeSnoozed(due.accountId, due.id)) woke++;
    } catch (err) {
      hub.log.warn({ err, conversationId: due.id }, 'a snoozed conversation could not be woken; the next round retries');
    }
  }
  return woke;
}

/** Every `intervalMs` in a process that runs jobs; rounds in several processes wake each conversation once. */
export function startSnoozeWake(hub: Pick<Hub, 'db' | 'conversations' | 'log'>, intervalMs = 30_000): SnoozeWake {
  let running: Promise<number> | undefined;
  const run = () =>
    (running ??= wakeDueConversations(hub)
      .catch((err: unknown) => {
        hub.log.error({ err }, 'waking snoozed conversations failed; the next round retries');
        return 0;
      })
      .finally(() => (running = undefined)));
  void run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
