import { parentPort } from 'node:worker_threads';
import '../thread.js';

/**
 * The AI thread, except that it dies (as a thread does on a native fault or running out of memory) when
 * asked to embed "crash this thread": the pool's crash handling is tested against a real dying thread.
 */
parentPort!.on('message', (m: { task: { kind: string; texts?: string[] } }) => {
  // An uncaught exception ends a worker thread (never the process); the pool sees its 'error' and 'exit'.
  if (m.task.kind === 'embed' && m.task.texts?.some((t) => t.includes('crash this thread'))) throw new Error('a fault in the AI thread');
});
