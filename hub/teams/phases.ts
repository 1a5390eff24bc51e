import { channel } from 'node:diagnostics_channel';

/**
 * Where a Teams invoke spends its time: the webhook and the click handler publish each phase's end on this
 * channel, only while someone subscribes (`npm run bench -- teams` does, to report phase timings).
 */
export const invokePhases = channel('hummdesk:teams.invoke');

export interface InvokePhase {
  /** The activity's id. */
  activityId: string;
  /** The phase that just ended: `authenticated`, `context`, `read`, `acted`, `answered`. */
  phase: string;
  /** performance.now() at its end. */
  at: number;
}

export function invokePhase(activityId: string | undefined, phase: string): void {
  if (activityId && invokePhases.hasSubscribers) invokePhases.publish({ activityId, phase, at: performance.now() } satisfies InvokePhase);
}
