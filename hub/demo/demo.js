// HummDesk demo page glue: logs the agent in, hands the components a short-lived embed token and
// wires the inbox to the conversation and draft views. Everything shown is rendered by the components.
const $ = (id) => document.getElementById(id);
const EMBED_REFRESH_MS = 10 * 60 * 1000; // embed tokens live 15 minutes
const agent = { accessToken: null, refreshToken: null, minting: null, timer: null };
const agentViews = () => [$('inbox'), $('conversation'), $('draft'), $('kb')];

async function errorText(res) {
  try {
    const body = await res.json();
    return body.error.message;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function refreshSession() {
  const res = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: agent.refreshToken }) });
  if (!res.ok) throw new Error(await errorText(res));
  const tokens = await res.json();
  agent.accessToken = tokens.accessToken;
  agent.refreshToken = tokens.refreshToken;
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
    .catch((err) => ($('agent-status').textContent = `Signed out: ${err.message}`))
    .finally(() => (agent.minting = null));
  return agent.minting;
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
  $('login-error').textContent = '';
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: $('login-email').value,
      password: $('login-password').value,
      ...($('login-account-field').hidden ? {} : { account: $('login-account').value }),
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
  agent.refreshToken = tokens.refreshToken;
  await renewEmbedToken();
  clearInterval(agent.timer);
  agent.timer = setInterval(renewEmbedToken, EMBED_REFRESH_MS);
  $('login-form').hidden = true;
  $('desk').hidden = false;
  $('agent-status').textContent = `Signed in as ${tokens.user.name}`;
  $('inbox').focus();
  $('inbox').shadowRoot?.querySelector('input')?.focus();
});

document.addEventListener('hummdesk-auth-expired', () => void renewEmbedToken());
document.addEventListener('hummdesk-conversation-select', (e) => {
  $('conversation').conversationId = e.detail.conversationId;
  $('draft').conversationId = e.detail.conversationId;
});
document.addEventListener('hummdesk-kb-select', (e) => $('conversation').insertReplyText(e.detail.hit.text));
$('new-visitor').addEventListener('click', () => {
  for (const key of Object.keys(localStorage)) if (key.startsWith('hummdesk:')) localStorage.removeItem(key);
  location.reload();
});
