import { parentPort, workerData } from 'node:worker_threads';
import { AiKernel, type AiTask } from './kernel.js';
import { lowerThisThread, osThreadId } from './priority.js';

/** An AI thread: runs the tasks the pool sends (ai/workers/pool.ts), one at a time, on its own models. */
const kernel = new AiKernel();
const port = parentPort!;
// A bulk thread gives the CPU to the main thread and the analysis threads first (ai/workers/priority.ts).
const nice = (workerData as { nice?: number } | null)?.nice;
const tid = nice ? lowerThisThread(nice) ?? osThreadId() : osThreadId();

port.on('message', (m: { id: number; task: AiTask }) => {
  const started = performance.now();
  kernel.run(m.task).then(
    (result) => port.postMessage({ id: m.id, ok: true, result, ms: performance.now() - started, threadId: kernel.threadId, tid }, transferables(result)),
    (err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      port.postMessage({ id: m.id, ok: false, error: { code: typeof e?.code === 'string' ? e.code : undefined, message: String(e?.message ?? err) }, ms: performance.now() - started, threadId: kernel.threadId, tid });
    },
  );
});

/** Vectors move to the main thread instead of being copied. */
function transferables(result: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const visit = (v: unknown) => {
    if (v instanceof Float32Array && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object' && 'vector' in v) visit((v as { vector: unknown }).vector);
    else if (v && typeof v === 'object' && 'items' in v) visit((v as { items: unknown }).items);
  };
  visit(result);
  return [...new Set(out)];
}
