import { parentPort, threadId } from 'node:worker_threads';

/**
 * An AI thread without models: answers every task at once (an embedding per text, an empty batch), so
 * tests of the pool's scheduling run in milliseconds and depend on the order of work, not on its cost.
 */
const port = parentPort!;
port.on('message', (m: { id: number; task: { kind: string; texts?: string[]; items?: unknown[] } }) => {
  const result = m.task.kind === 'embed' ? (m.task.texts ?? []).map(() => new Float32Array(1)) : { items: [] };
  port.postMessage({ id: m.id, ok: true, result, ms: 0, threadId });
});
