/**
 * Slack's documented Web API limits that both the hub's pacing (hub/slack/surface.ts) and the emulator
 * (testing/limits.ts) follow: one source, so our pacer never plans a burst Slack refuses. From
 * api.slack.com/apis/rate-limits and chat.postMessage's reference.
 */

/** chat.postMessage into one channel: about one message a second, short bursts allowed (we take 3). */
export const SLACK_POSTS_PER_CHANNEL = { perSecond: 1, burst: 3 } as const;

/**
 * conversations.history / conversations.replies of a commercially distributed app not approved for the
 * Marketplace (since 2025): 1 request a minute, at most 15 objects a page.
 */
export const SLACK_DISTRIBUTED_APP_READS = { perMinute: 1, burst: 1, pageMax: 15 } as const;

/**
 * How long the Web API client waits for an answer. A call cut off by it may still be carried out by
 * Slack afterwards (a post held longer than this lands later): its outcome is unknown, not a failure.
 */
export const SLACK_CLIENT_TIMEOUT_MS = 10_000;
