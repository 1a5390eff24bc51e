// A second hub process for listener-lease.test.ts: listeners only, on the DATABASE_URL it is given,
// printing the channels it listens to. The test kills it with SIGKILL to see another hub take over.
import pino from 'pino';
import { loadConfig } from '../../hub/config.js';
import { createHub } from '../../hub/context.js';
import { installConnectors } from '../../hub/connectors.js';
import { startListeners } from '../../hub/listeners.js';

const hub = await createHub(loadConfig(process.env), { log: pino({ level: process.env.FIXTURE_LOG_LEVEL ?? 'silent' }, process.stderr) });
installConnectors(hub);
const listeners = startListeners(hub, { leaseMs: Number(process.env.LEASE_MS), rescanMs: Number(process.env.RESCAN_MS) });
setInterval(() => process.stdout.write(`running ${JSON.stringify(listeners.running())}\n`), 100);
