// HummDesk demo page: a customer pane on the public web chat API and an agent pane on the REST API.
// Everything a person typed is untrusted and rendered with textContent only.
const WIDGET = 'demo-widget';
const VISITOR_KEY = 'hummdesk-demo-visitor';
const $ = (id) => document.getElementById(id);

/** Builds an element with text children; never parses HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const errorText = async (res) => {
  try {
    const body = await res.json();
    return `${body.error.code}: ${body.error.message}`;
  } catch {
    return `HTTP ${res.status}`;
  }
};

// ——— customer ———
const visitor = { id: null, token: null, stream: null, messages: new Map(), pending: new Map() };

function renderVisitor() {
  const list = $('visitor-messages');
  const items = [...visitor.messages.values(), ...visitor.pending.values()].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  list.replaceChildren(
    ...items.map((m) => {
      const who = m.direction === 'inbound' ? 'You' : m.authorName || 'Support';
      const state = m.failed ? ' · not sent, click to retry' : m.pending ? ' · sending…' : '';
      const li = el('li', { class: m.direction }, m.text, el('span', { class: 'meta' }, `${who} · ${time(m.sentAt)}${state}`));
      if (m.failed) li.addEventListener('click', () => sendVisitorMessage(m.clientMessageId, m.text));
      return li;
    }),
  );
  list.scrollTop = list.scrollHeight;
}

async function startVisitor(name) {
  const saved = JSON.parse(localStorage.getItem(VISITOR_KEY) || 'null');
  const body = saved ? { visitorId: saved.visitorId, visitorToken: saved.visitorToken } : {};
  if (name) body.name = name;
  let res = await fetch(`/webchat/${WIDGET}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status === 401 && saved) {
    // The stored visitor is no longer valid here (a fresh data folder): start a new one.
    localStorage.removeItem(VISITOR_KEY);
    return startVisitor(name);
  }
  if (!res.ok) return void ($('visitor-status').textContent = `Could not start: ${await errorText(res)}`);
  const session = await res.json();
  localStorage.setItem(VISITOR_KEY, JSON.stringify({ visitorId: session.visitorId, visitorToken: session.visitorToken }));
  visitor.id = session.visitorId;
  visitor.token = session.visitorToken;
  $('greeting').textContent = session.greeting || '';
  $('visitor-compose').hidden = false;
  $('visitor-status').textContent = `Chatting as visitor ${visitor.id}`;
  openVisitorStream();
  res = await fetch(`/webchat/${WIDGET}/messages`, { headers: visitorHeaders() });
  if (res.ok) for (const m of (await res.json()).items) visitor.messages.set(m.id, m);
  renderVisitor();
}

const visitorHeaders = () => ({ authorization: `Visitor ${visitor.token}`, 'x-visitor-id': visitor.id });

function openVisitorStream() {
  visitor.stream?.close();
  const q = new URLSearchParams({ visitorId: visitor.id, visitorToken: visitor.token });
  visitor.stream = new EventSource(`/webchat/${WIDGET}/events?${q}`);
  visitor.stream.addEventListener('message', (e) => {
    const m = JSON.parse(e.data);
    visitor.messages.set(m.id, m);
    renderVisitor();
  });
  visitor.stream.addEventListener('status', (e) => {
    const s = JSON.parse(e.data);
    const m = visitor.messages.get(s.messageId);
    if (m) m.deliveryStatus = s.deliveryStatus;
  });
}

async function sendVisitorMessage(clientMessageId, text) {
  // The same clientMessageId on a retry makes the resend idempotent on the hub.
  visitor.pending.set(clientMessageId, { clientMessageId, text, direction: 'inbound', sentAt: new Date().toISOString(), pending: true });
  renderVisitor();
  try {
    const res = await fetch(`/webchat/${WIDGET}/messages`, {
      method: 'POST',
      headers: { ...visitorHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ clientMessageId, text }),
    });
    if (!res.ok) throw new Error(await errorText(res));
    const { messageId } = await res.json();
    visitor.pending.delete(clientMessageId);
    if (!visitor.messages.has(messageId)) visitor.messages.set(messageId, { id: messageId, direction: 'inbound', text, sentAt: new Date().toISOString(), authorName: null });
    $('visitor-status').textContent = '';
  } catch (err) {
    visitor.pending.set(clientMessageId, { ...visitor.pending.get(clientMessageId), pending: false, failed: true });
    $('visitor-status').textContent = `Not sent: ${err.message}`;
  }
  renderVisitor();
}

$('visitor-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void startVisitor($('visitor-name').value.trim());
});
$('visitor-reset').addEventListener('click', () => {
  localStorage.removeItem(VISITOR_KEY);
  visitor.stream?.close();
  visitor.messages.clear();
  visitor.pending.clear();
  renderVisitor();
  void startVisitor($('visitor-name').value.trim());
});
$('visitor-compose').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('visitor-text').value;
  if (!text.trim()) return;
  $('visitor-text').value = '';
  void sendVisitorMessage(crypto.randomUUID(), text);
});
if (localStorage.getItem(VISITOR_KEY)) void startVisitor('');

// ——— agent ———
const agent = { token: null, refresh: null, stream: null, selected: null, reloadTimer: null };

async function api(path, opts = {}, retried = false) {
  const headers = { authorization: `Bearer ${agent.token}`, ...(opts.body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(`/api/v1${path}`, { ...opts, headers });
  if (res.status === 401 && !retried && (await refreshAgent())) return api(path, opts, true);
  if (!res.ok) throw new Error(await errorText(res));
  return res.status === 204 ? null : res.json();
}

async function refreshAgent() {
  if (!agent.refresh) return false;
  const res = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: agent.refresh }) });
  if (!res.ok) return false;
  const tokens = await res.json();
  agent.token = tokens.accessToken;
  agent.refresh = tokens.refreshToken;
  return true;
}

async function loadConversations() {
  const { items } = await api('/conversations?limit=50');
  $('conversations').replaceChildren(
    ...items.map((c) => {
      const li = el('li', { 'aria-selected': String(c.id === agent.selected), tabindex: '0' },
        c.contactName || 'Visitor', el('span', { class: 'meta' }, `${c.channelKind} · ${c.status} · ${time(c.lastMessageAt)}`));
      const open = () => selectConversation(c.id);
      li.addEventListener('click', open);
      li.addEventListener('keydown', (e) => e.key === 'Enter' && open());
      return li;
    }),
  );
  if (!agent.selected && items[0]) await selectConversation(items[0].id);
}

async function selectConversation(id) {
  agent.selected = id;
  for (const li of $('conversations').children) li.setAttribute('aria-selected', 'false');
  $('agent-compose').hidden = false;
  await loadMessages();
  void loadConversations();
}

async function loadMessages() {
  if (!agent.selected) return;
  const { items } = await api(`/conversations/${agent.selected}/messages?limit=200`);
  const list = $('agent-messages');
  list.replaceChildren(
    ...items.map((m) => {
      const kind = m.isPrivate ? 'note' : m.direction;
      const who = m.authorName || (m.direction === 'inbound' ? 'Customer' : 'Agent');
      const status = m.isPrivate ? ' · internal note' : m.direction === 'outbound' && m.deliveryStatus ? ` · ${m.deliveryStatus}` : '';
      return el('li', { class: kind }, m.text, el('span', { class: 'meta' }, `${who} · ${time(m.sentAt)}${status}`));
    }),
  );
  list.scrollTop = list.scrollHeight;
}

function scheduleReload() {
  clearTimeout(agent.reloadTimer);
  agent.reloadTimer = setTimeout(() => {
    loadConversations().catch(showAgentError);
    loadMessages().catch(showAgentError);
  }, 150);
}

function openAgentStream() {
  agent.stream?.close();
  agent.stream = new EventSource(`/api/v1/events?access_token=${encodeURIComponent(agent.token)}`);
  for (const type of ['conversation.created', 'conversation.updated', 'message.created', 'message.updated']) agent.stream.addEventListener(type, scheduleReload);
  agent.stream.onerror = async () => {
    // An expired access token ends the stream: refresh and reconnect.
    if (agent.stream.readyState === EventSource.CLOSED && (await refreshAgent())) openAgentStream();
  };
}

const showAgentError = (err) => ($('agent-status').textContent = String(err.message || err));

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: $('login-email').value, password: $('login-password').value }),
  });
  if (!res.ok) return showAgentError(new Error(await errorText(res)));
  const tokens = await res.json();
  agent.token = tokens.accessToken;
  agent.refresh = tokens.refreshToken;
  $('login-form').hidden = true;
  $('inbox').hidden = false;
  $('agent-status').textContent = `Signed in as ${tokens.user.name}`;
  openAgentStream();
  await loadConversations().catch(showAgentError);
});

async function agentSend(path) {
  const text = $('agent-text').value;
  if (!text.trim() || !agent.selected) return;
  try {
    await api(`/conversations/${agent.selected}/${path}`, { method: 'POST', body: JSON.stringify({ text }) });
    $('agent-text').value = '';
    await loadMessages();
  } catch (err) {
    showAgentError(err);
  }
}
$('agent-compose').addEventListener('submit', (e) => {
  e.preventDefault();
  void agentSend('reply');
});
$('agent-note').addEventListener('click', () => void agentSend('notes'));
