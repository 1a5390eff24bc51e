import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Who holds a data folder, as the holding process tells it. */
export interface LockHolder {
  pid: number;
  command?: string;
}

/** Another process has the embedded store open; PGlite is one process's store, a second writer loses data. */
export class DataDirLockedError extends Error {
  readonly code = 'data_dir_locked';
  constructor(
    readonly dir: string,
    readonly holder?: LockHolder,
  ) {
    super(
      `data_dir_locked: another HummDesk process${holder ? ` (pid ${holder.pid}${holder.command ? `, hummdesk ${holder.command}` : ''})` : ''} is using the embedded store in ${dir}. ` +
        'Stop that process first, or make the change through the running hub (its API at /api/v1), ' +
        'or run every process against PostgreSQL with DATABASE_URL.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

// Longest socket path every platform binds (sun_path is 104–108 bytes).
const MAX_SOCKET_PATH = 100;

/**
 * Holds `dir` for this process until release() or exit. The lock is a listening socket, which the kernel
 * closes when its process dies however it dies, so no stale lock outlives its holder (not even as PID 1 in
 * a container, where a PID file's number is always "alive"); lock files with mtime staleness cannot say that.
 * On Linux an abstract socket (no file; atomic; per network namespace) plus a socket file in the folder
 * (seen across containers that share the volume); elsewhere the socket file, or a named pipe on Windows.
 */
export async function lockDataDir(dir: string, holder: Omit<LockHolder, 'pid'> = {}): Promise<DataDirLock> {
  mkdirSync(dir, { recursive: true });
  const real = realpathSync(dir);
  const id = createHash('sha256').update(real).digest('hex').slice(0, 32);
  const file = join(dirname(real), `${basename(real)}.lock`);
  // Who holds the lock, for the next process's message; read only while the lock is live, so never stale.
  const info = `${file}.json`;
  const held: Server[] = [];
  const release = async () => {
    await Promise.all(held.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  try {
    if (process.platform === 'win32') held.push(await bindOrReport(`\\\\.\\pipe\\hummdesk-store-${id}`, dir, info));
    else {
      if (process.platform === 'linux') held.push(await bindOrReport(`\0hummdesk-store-${id}`, dir, info));
      const socketFile = Buffer.byteLength(file) <= MAX_SOCKET_PATH ? file : process.platform === 'linux' ? undefined : join(tmpdir(), `hummdesk-store-${id}.lock`);
      const server = socketFile ? await bindFile(socketFile, dir, info, process.platform !== 'linux') : undefined;
      if (server) held.push(server);
    }
    writeFileSync(info, JSON.stringify({ pid: process.pid, command: holder.command } satisfies LockHolder));
  } catch (err) {
    await release();
    throw err;
  }
  return {
    async release() {
      // Before the sockets close: once they do, the next holder writes its own.
      rmSync(info, { force: true });
      await release();
    },
  };
}

/** Binds `path`, or reports who holds it. */
async function bindOrReport(path: string, dir: string, info: string): Promise<Server> {
  try {
    return await listen(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new DataDirLockedError(dir, holderOf(info));
  }
}

function holderOf(info: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(info, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A socket file stays behind when its process dies; one nobody answers on is stale and replaced. */
async function bindFile(path: string, dir: string, info: string, required: boolean): Promise<Server | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listen(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE') {
        // A file system that holds no sockets (some network and host-shared mounts): the abstract socket still guards this machine.
        if (!required) return undefined;
        throw err;
      }
      if ((await listening(path)) || attempt > 0) throw new DataDirLockedError(dir, holderOf(info));
      if (lstatSync(path, { throwIfNoEntry: false })?.isSocket()) unlinkSync(path);
    }
  }
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      // An asker that hangs up at once must never take the holder down with an unhandled socket error.
      socket.on('error', () => undefined);
      socket.destroy();
    });
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      // The lock never keeps a finished process alive; the kernel frees it when the process ends.
      server.unref();
      resolve(server);
    });
  });
}

/** Whether a process listens at `path`: the kernel accepts the connection even while the holder is busy. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
