import { timingSafeEqual } from 'node:crypto';
import type { Database } from '../../storage/database.js';
import { deriveKey } from '../../storage/secret-box.js';
import { setAccount } from '../../storage/session.js';
import { insertUser } from '../../storage/repositories/users.js';
import { audit } from '../../storage/repositories/audit.js';
import { DEMO_SLUG } from './demo.js';
import { HubError, badRequest, conflict, unauthorized } from '../errors.js';
import { hashPassword } from './auth.js';

/*
 * First-run setup: a hub with no account yet lets the person who started it create the workspace from its
 * page and become its owner. Reaching the page is not enough: setup takes the token `hummdesk start` prints
 * in its terminal. Once any account exists (made here, by `hummdesk account create`, or the demo seed of
 * `npm start`), setup is closed for good.
 */

/**
 * The setup token `hummdesk start` prints while the hub has no account. Derived from the hub's secret key,
 * so every process of one hub (they share the key) prints and accepts the same token, across restarts too,
 * and it is worth nothing once the first account exists.
 */
export function setupToken(secretKey: Buffer): string {
  return deriveKey(secretKey, 'first-run-setup-token').subarray(0, 16).toString('hex');
}

/** Refuses a setup without the printed token (401 `setup_token_required`) or with another (403 `setup_token_invalid`). */
export function checkSetupToken(secretKey: Buffer, given: string | undefined): void {
  const presented = given?.trim().toLowerCase() ?? '';
  if (!presented) throw unauthorized('setting up this hub takes the setup token `hummdesk start` printed in its terminal', 'setup_token_required');
  const expected = Buffer.from(setupToken(secretKey));
  const candidate = Buffer.from(presented);
  if (candidate.length !== expected.length || !timingSafeEqual(candidate, expected))
    throw new HubError(403, 'setup_token_invalid', 'this is not the setup token `hummdesk start` printed in its terminal');
}

/** Held while a setup checks for accounts and creates the first, so concurrent setups (any process) make one. */
const SETUP_LOCK = 0x48554d4d; // "HUMM"

export interface SetupState {
  /** No account exists: the page offers "Create your workspace". */
  needed: boolean;
  /** The demo account of `npm start` exists (its login is printed in the terminal, never on the page). */
  demo: boolean;
}

/** Read before any tenant exists, as the connection's own role (like login's lookup by email). */
export async function setupState(db: Database): Promise<SetupState> {
  const { rows } = await db.query<SetupState>(
    `SELECT NOT EXISTS (SELECT 1 FROM accounts) AS needed, EXISTS (SELECT 1 FROM accounts WHERE slug = $1) AS demo`,
    [DEMO_SLUG],
  );
  return rows[0]!;
}

/** `Acme Support, Oy` → `acme-support-oy`; a name with no letters or digits in it gives `workspace`. */
export function slugFor(name: string): string {
  const slug = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
  return slug.length >= 2 ? slug : 'workspace';
}

export interface FirstAccount {
  accountId: string;
  name: string;
  slug: string;
  userId: string;
}

const setupDone = () => conflict('setup_done', 'this hub is already set up: sign in, or ask an owner of your workspace for an invite');

/**
 * Creates the first account and its owner, or refuses with 409 `setup_done` when an account exists, and
 * without the hub's setup token (`checkSetupToken`). The password is checked and hashed before anything is
 * written, so a refused one leaves setup open.
 */
export async function createFirstAccount(
  db: Database,
  secretKey: Buffer,
  input: { workspace: string; name: string; email: string; password: string; setupToken?: string },
): Promise<FirstAccount> {
  // A hub already set up answers at once, without spending a password hash on the request.
  if (!(await setupState(db)).needed) throw setupDone();
  checkSetupToken(secretKey, input.setupToken);
  const workspace = input.workspace.trim();
  const name = input.name.trim();
  if (!workspace || !name) throw badRequest('name_blank', 'the workspace and its owner need names, not only spaces');
  const passwordHash = await hashPassword(input.password);
  const slug = slugFor(workspace);
  return db.transaction(async (tx) => {
    // A second setup waits here for the first to commit, then finds its account.
    await tx.query(`SELECT pg_advisory_xact_lock($1)`, [SETUP_LOCK]);
    const taken = await tx.query(`SELECT 1 FROM accounts LIMIT 1`);
    if (taken.rowCount) throw setupDone();
    // The account row precedes any tenant, so it is written as the connection's own role; the rest as the tenant.
    const accountId = (await tx.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ($1, $2) RETURNING id`, [workspace, slug])).rows[0]!.id;
    await setAccount(tx, accountId);
    const owner = await insertUser(tx, { accountId, email: input.email, name, role: 'owner', passwordHash });
    await audit(tx, { accountId, actorKind: 'user', actorId: owner.id, action: 'account.created', targetKind: 'account', targetId: accountId, data: { via: 'setup' } });
    return { accountId, name: workspace, slug, userId: owner.id };
  });
}
