import { afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { AiThreadPool } from '../pool.js';

/** The AI thread that dies on "crash this thread" (crashing-thread.ts). */
export const CRASHING = fileURLToPath(new URL('./crashing-thread.ts', import.meta.url));
/** An AI thread without models that answers every task at once (echo-thread.ts). */
export const ECHO = fileURLToPath(new URL('./echo-thread.ts', import.meta.url));

/** Pools a test file makes, closed after its tests. */
export function poolsClosedAfterAll(): (o: ConstructorParameters<typeof AiThreadPool>[0]) => AiThreadPool {
  const pools: AiThreadPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });
  return (o) => {
    const p = new AiThreadPool(o);
    pools.push(p);
    return p;
  };
}
