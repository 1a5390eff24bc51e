import type { AccountEvent } from './events.js';

/** One server-sent event: `event: name` and its data as JSON. */
export function sseFrame(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

// The bus hands every listener in a process the same AccountEvent object, so frames are kept per event
// object (and per view of it): a hundred open streams share one serialisation instead of a hundred.
const frames = new WeakMap<AccountEvent, Map<string, string>>();

/**
 * The frame of `e` as `view` shows it, serialised the first time a stream asks and reused by every
 * other stream with the same view. Each stream still decides for itself whether `e` is its to see;
 * a view that shows an event differently (to a role, to a visitor) has its own name.
 */
export function sharedFrame(e: AccountEvent, view: string, name: string, data: () => unknown): string {
  let byView = frames.get(e);
  if (!byView) frames.set(e, (byView = new Map()));
  let frame = byView.get(view);
  if (frame === undefined) byView.set(view, (frame = sseFrame(name, data())));
  return frame;
}
