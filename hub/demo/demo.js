// The desk page at /: logs the agent in, hands the components a short-lived embed token and
// wires the inbox to the conversation and draft views. Everything shown is rendered by the components.
const $ = (id) => document.getElementById(id);
const EMBED_REFRESH_MS = 10 * 60 * 1000; // embed tokens live 15 minutes
const agent = { accessToken: null, user: null, minting: null, timer: null };
// The refresh token lives in an httpOnly cookie (never visible to this script); this header unlocks it.
const SESSION = { 'content-type': 'application/json', 'x-hummdesk-session': 'cookie' };
const agentViews = () => [$('inbox'), $('conversation'), $('draft'), $('kb')];

async function errorText(res) {
  try {
    const body = await res.json();
    return body.error.message;
  } catch {
    return `HTTP ${res.status}`;
  }
}

class SignedOut extends Error {}

async function refreshSession() {
  const res = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: SESSION, body: '{}' });
  if (res.status === 401) throw new SignedOut(await errorText(res));
  if (!res.ok) throw new Error(await errorText(res));
  const tokens = await res.json();
  agent.accessToken = tokens.accessToken;
  agent.user = tokens.user;
}

/** The components never see the session token: only an embed token minted from it. */
async function mintEmbedToken(retried = false) {
  const res = await fetch('/api/v1/embed-tokens', { method: 'POST', headers: { authorization: `Bearer ${agent.accessToken}` } });
  if (res.status === 401 && !retried) {
    await refreshSession();
    return mintEmbedToken(true);
  }
  if (!res.ok) throw new Error(await errorText(res));
  const { token } = await res.json();
  for (const view of agentViews()) view.token = token;
}

function renewEmbedToken() {
  agent.minting ??= mintEmbedToken()
    .catch((err) => (err instanceof SignedOut ? showSignIn(`Your session ended (${err.message}). Sign in again; what you were writing is kept.`) : ($('agent-status').textContent = `Could not renew the session: ${err.message}`)))
    .finally(() => (agent.minting = null));
  return agent.minting;
}

/** Shows the desk for the signed-in agent; the views keep their state (a half-written reply too). */
async function showDesk() {
  await mintEmbedToken();
  clearInterval(agent.timer);
  agent.timer = setInterval(renewEmbedToken, EMBED_REFRESH_MS);
  $('login-form').hidden = true;
  $('setup-form').hidden = true;
  $('desk').hidden = false;
  $('session-controls').hidden = false;
  $('agent-status').textContent = `Signed in as ${agent.user.name}`;
  $('availability').value = agent.user.available === false ? 'away' : 'available';
  $('settings').hidden = !['admin', 'owner'].includes(agent.user.role);
}

function showSignIn(message = '') {
  clearInterval(agent.timer);
  showSettings(false);
  const admin = $('admin-console').firstElementChild;
  if (admin) admin.token = '';
  agent.accessToken = null;
  $('setup-form').hidden = true;
  $('login-form').hidden = false;
  $('session-controls').hidden = true;
  $('login-error').textContent = message;
  $('agent-status').textContent = '';
  if (message) $('login-password').focus();
}

// The setup link `hummdesk start` prints (/#setup=…) carries its token in the fragment, which no request sends;
// it is taken out of the address bar and history at once.
const setupLinkToken = new URLSearchParams(location.hash.slice(1)).get('setup');
if (setupLinkToken !== null) history.replaceState(null, '', location.pathname + location.search);

/**
 * Signed out: a hub with no account yet offers to create the workspace (with the printed setup token; once,
 * the hub refuses it after), any other the sign-in form. The demo's login is printed in the terminal, never put in the form.
 */
async function showEntry() {
  const res = await fetch('/api/v1/setup').catch(() => undefined);
  const state = res?.ok ? await res.json() : { needed: false, demo: false };
  $('login-hint').hidden = !state.demo;
  if (!state.needed) return showSignIn();
  $('login-form').hidden = true;
  $('setup-form').hidden = false;
  if (setupLinkToken) $('setup-token').value = setupLinkToken;
  $(setupLinkToken ? 'setup-workspace' : 'setup-token').focus();
}

function chooseAccount(accounts) {
  $('login-account').replaceChildren(...accounts.map((a) => new Option(`${a.name} (${a.slug})`, a.slug)));
  $('login-account-field').hidden = false;
  $('login-error').textContent = 'This email signs in to several accounts: choose one and log in again.';
  $('login-account').focus();
}

// Another email or password may match other accounts: the choice is asked for again when needed.
for (const id of ['login-email', 'login-password']) $(id).addEventListener('input', () => ($('login-account-field').hidden = true));

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  // Asked once, on the agent's own click (browsers ignore a request without one).
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
  $('login-error').textContent = '';
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: $('login-email').value,
      password: $('login-password').value,
      ...($('login-account-field').hidden ? {} : { account: $('login-account').value }),
      session: 'cookie',
    }),
  });
  if (res.status === 409) {
    // The email and password sign in to several accounts: the agent picks one and logs in again.
    const body = await res.json().catch(() => undefined);
    if (body?.error?.code === 'account_required') return void chooseAccount(body.error.details.accounts);
  }
  if (!res.ok) return void ($('login-error').textContent = await errorText(res));
  const tokens = await res.json();
  agent.accessToken = tokens.accessToken;
  agent.user = tokens.user;
  $('login-password').value = '';
  await showDesk();
  $('inbox').focus();
  $('inbox').shadowRoot?.querySelector('input')?.focus();
});

$('setup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
  $('setup-error').textContent = '';
  const button = e.target.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const res = await fetch('/api/v1/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        setupToken: $('setup-token').value.trim(),
        workspace: $('setup-workspace').value.trim(),
        name: $('setup-name').value.trim(),
        email: $('setup-email').value.trim(),
        password: $('setup-password').value,
        session: 'cookie',
      }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => undefined);
      const text = body?.error ? `${body.error.message} (${body.error.code})` : `HTTP ${res.status}`;
      // Someone else created the workspace first: this hub now only signs in.
      if (body?.error?.code === 'setup_done') {
        $('login-email').value = $('setup-email').value.trim();
        return void showSignIn(text);
      }
      $('setup-error').textContent = text;
      if (body?.error?.code?.startsWith('setup_token_')) $('setup-token').focus();
      return;
    }
    const created = await res.json();
    agent.accessToken = created.accessToken;
    agent.user = created.user;
    $('setup-password').value = '';
    $('login-email').value = created.user.email;
    await showDesk();
    // The owner's next step: a channel for customers to write on.
    await showSettings(true);
    $('agent-status').textContent = `Workspace “${created.account.name}” created. Add a channel so your customers can reach you.`;
  } finally {
    button.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  await fetch('/api/v1/auth/logout', { method: 'POST', headers: SESSION, body: '{}' }).catch(() => undefined);
  for (const view of agentViews()) view.token = '';
  $('desk').hidden = true;
  showSignIn();
});

// The admin console is its own bundle, loaded the first time an admin opens Settings. Settings routes
// refuse embed tokens, so it gets the session's short-lived access token (the refresh token stays in its cookie).
async function showSettings(open) {
  $('settings').setAttribute('aria-pressed', String(open));
  $('settings').textContent = open ? 'Back to inbox' : 'Settings';
  document.body.classList.toggle('settings', open);
  $('desk').hidden = open || !agent.accessToken;
  $('admin-console').hidden = !open;
  if (!open) return;
  if (!$('admin-console').firstElementChild) {
    await import('/embed/hummdesk-admin.js');
    $('admin-console').append(document.createElement('hummdesk-admin'));
  }
  $('admin-console').firstElementChild.token = agent.accessToken;
}

$('settings').addEventListener('click', () => {
  showSettings($('settings').getAttribute('aria-pressed') !== 'true').catch((err) => ($('agent-status').textContent = `Settings could not be loaded: ${err.message}`));
});

$('availability').addEventListener('change', async (e) => {
  const res = await fetch(`/api/v1/users/${agent.user.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.accessToken}` },
    body: JSON.stringify({ available: e.target.value === 'available' }),
  });
  if (res.ok) agent.user = await res.json();
  else $('agent-status').textContent = `Availability not changed: ${await errorText(res)}`;
});

// An invite link (/?invite=…) from the admin console: the invitee sets a password, then signs in.
const invite = new URLSearchParams(location.search).get('invite');
$('invite-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await fetch('/api/v1/auth/invite', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: invite, password: $('invite-password').value }) });
  if (!res.ok) {
    const body = await res.json().catch(() => undefined);
    return void ($('invite-error').textContent = body?.error ? `${body.error.message} (${body.error.code})` : `HTTP ${res.status}`);
  }
  const { email } = await res.json();
  history.replaceState(null, '', location.pathname);
  $('invite-form').hidden = true;
  $('login-email').value = email;
  showSignIn();
  $('login-error').textContent = 'Your password is set: sign in with it.';
  $('login-password').focus();
});

if (invite) {
  $('login-form').hidden = true;
  $('invite-form').hidden = false;
  $('invite-password').focus();
} else {
  // A reload keeps the agent signed in: the session cookie gives a fresh access token.
  refreshSession()
    .then(showDesk)
    .catch((err) => (err instanceof SignedOut ? showEntry() : showSignIn(`Could not restore the session: ${err.message}`)));
}

// The inbox's view and filters live in the URL: a reload or a shared link opens the same list.
const INBOX_FILTERS = ['status', 'assignee', 'team', 'channel', 'category', 'priority', 'q', 'sort'];
const fromUrl = new URLSearchParams(location.search);
if (INBOX_FILTERS.some((f) => fromUrl.has(f))) for (const f of INBOX_FILTERS) $('inbox')[f] = fromUrl.get(f) ?? '';
document.addEventListener('hummdesk-filters-change', (e) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(e.detail.filters)) params.set(name, value);
  history.replaceState(null, '', params.size ? `?${params}` : location.pathname);
});

document.addEventListener('hummdesk-auth-expired', (e) => {
  if (!e.detail.source.startsWith('hummdesk-admin')) return void renewEmbedToken();
  // The access token expired: a fresh one from the session cookie; the console's forms keep what was typed.
  refreshSession()
    .then(() => ($('admin-console').firstElementChild.token = agent.accessToken))
    .catch((err) => showSignIn(err instanceof SignedOut ? `Your session ended (${err.message}). Sign in again.` : `Could not renew the session: ${err.message}`));
});
document.addEventListener('hummdesk-conversation-select', (e) => {
  $('conversation').conversationId = e.detail.conversationId;
  $('draft').conversationId = e.detail.conversationId;
  $('desk').dataset.pane = 'conversation';
});
// A phone shows one pane at a time.
// Notifications: a customer writing in a conversation that is mine or nobody's, unless I am looking at it.
const BASE_TITLE = document.title;
document.addEventListener('hummdesk-unread-change', (e) => {
  document.title = e.detail.count ? `(${e.detail.count}) ${BASE_TITLE}` : BASE_TITLE;
});
$('sound').checked = localStorage.getItem('hummdesk-sound') === 'on';
$('sound').addEventListener('change', (e) => localStorage.setItem('hummdesk-sound', e.target.checked ? 'on' : 'off'));
function chime() {
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.25);
  tone.onended = () => void audio.close();
}
document.addEventListener('hummdesk-inbox-activity', (e) => {
  const { conversation, newConversation } = e.detail;
  const forMe = !conversation.assigneeId || conversation.assigneeId === agent.user?.id;
  const looking = document.visibilityState === 'visible' && document.hasFocus() && $('conversation').conversationId === conversation.id;
  if (!forMe || looking) return;
  if ($('sound').checked) chime();
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  const who = conversation.contactName || conversation.contactEmail || conversation.contactPhone || 'A customer';
  const note = new Notification(newConversation ? `New conversation: ${who}` : `${who} wrote`, { body: conversation.preview ?? '', tag: conversation.id });
  note.onclick = () => {
    window.focus();
    $('inbox').selected = conversation.id;
    document.dispatchEvent(new CustomEvent('hummdesk-conversation-select', { detail: { conversationId: conversation.id, conversation } }));
    note.close();
  };
});

$('back').addEventListener('click', () => {
  $('desk').dataset.pane = 'list';
  $('inbox').focus();
});

// Light or dark: the visitor's setting unless they chose one here (kept in this browser).
const applyTheme = (theme) => {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  $('theme').value = theme;
};
applyTheme(localStorage.getItem('hummdesk-theme') ?? '');
$('theme').addEventListener('change', (e) => {
  localStorage.setItem('hummdesk-theme', e.target.value);
  applyTheme(e.target.value);
});
document.addEventListener('hummdesk-kb-select', (e) => $('conversation').insertReplyText(e.detail.hit.text));
