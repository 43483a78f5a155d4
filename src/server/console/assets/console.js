// The console page: live calls, a call's transcript, today's summary, replica health. The views come
// from /console/api (cached, ETag-revalidated by the browser), then every change is pushed over
// /console/stream (Server-Sent Events; EventSource reconnects by itself with Last-Event-ID).
'use strict';
const calls = new Map();
const ended = new Set();
let selected = null;
let summaryTimer = null;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, text) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  if (text !== undefined) e.textContent = text;
  return e;
};

async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (res.status === 401) {
    location.assign('/console/login');
    throw new Error('signed out');
  }
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function renderCalls() {
  const body = $('calls').tBodies[0];
  const rows = [...calls.values()].sort((a, b) => a.startedAt - b.startedAt);
  body.replaceChildren(
    ...rows.map((c) => {
      const tr = el('tr', { className: c.callId === selected ? 'selected' : '' });
      tr.dataset.callId = c.callId;
      tr.append(
        el('td', { className: 'caller' }, c.caller),
        el('td', { className: 'state' }, c.state),
        el('td', { className: 'duration' }, duration(Date.now() - c.startedAt)),
        el('td', { className: `speaking speaking-${c.speaking ?? 'none'}` }, c.speaking ?? '–'),
        el('td', { className: 'turns' }, String(c.turns)),
        el('td', { className: 'owner muted' }, c.owner),
      );
      tr.addEventListener('click', () => select(c.callId));
      return tr;
    }),
  );
  $('live-count').textContent = String(rows.length);
  $('no-calls').hidden = rows.length > 0;
  renderReplicas();
}

function tickDurations() {
  for (const tr of $('calls').tBodies[0].rows) {
    const c = calls.get(tr.dataset.callId);
    if (c) tr.querySelector('.duration').textContent = duration(Date.now() - c.startedAt);
  }
}

let lastReplicas = [];
function renderReplicas(replicas = lastReplicas) {
  lastReplicas = replicas;
  // Calls per replica from the live calls (pushed), the rest from the replica's last health report.
  const perOwner = new Map();
  for (const c of calls.values()) perOwner.set(c.owner, (perOwner.get(c.owner) ?? 0) + 1);
  $('replicas').tBodies[0].replaceChildren(
    ...replicas.map((r) => {
      const tr = el('tr');
      tr.append(
        el('td', {}, r.workerId),
        el('td', {}, String(perOwner.get(r.workerId) ?? 0)),
        el('td', {}, r.redis),
        el('td', {}, String(r.outboxDepth)),
        el('td', {}, String(r.archiveSpooled)),
        el('td', {}, String(r.consoles)),
      );
      return tr;
    }),
  );
}

function renderSummary(s) {
  $('sum-calls').textContent = String(s.calls);
  $('sum-success').textContent = s.calls > 0 ? `${Math.round(s.successRate * 100)} %` : '–';
  $('sum-duration').textContent = s.calls > 0 ? duration(s.avgDurationMs) : '–';
  $('outcomes').replaceChildren(...Object.entries(s.byOutcome).map(([o, n]) => el('li', {}, `${o}: ${n}`)));
  const max = Math.max(1, ...s.perHour);
  $('per-hour').replaceChildren(
    ...s.perHour.map((n, h) => {
      const bar = el('span', { title: `${String(h).padStart(2, '0')}:00 UTC: ${n}` });
      bar.style.height = `${Math.round((n / max) * 100)}%`;
      return bar;
    }),
  );
}

async function loadCalls() {
  const view = await getJson('/console/api/calls');
  const seen = new Set();
  for (const c of view.calls) {
    seen.add(c.callId);
    if (!ended.has(c.callId) && !calls.has(c.callId)) calls.set(c.callId, c);
  }
  renderCalls();
  renderReplicas(view.replicas);
}

async function loadSummary() {
  renderSummary(await getJson('/console/api/summary'));
  const c = await getJson('/console/api/campaigns');
  $('campaigns').textContent = c.campaigns.length === 0 ? 'no campaigns' : c.campaigns.map((x) => `${x.name}: ${x.done}/${x.total}`).join(', ');
}

function addTurn(turn) {
  const li = el('li', { className: `${turn.speaker}${turn.interrupted ? ' interrupted' : ''}` }, turn.text);
  li.dataset.seq = String(turn.seq);
  const list = $('transcript');
  if (list.querySelector(`li[data-seq="${turn.seq}"]`)) return;
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

async function select(callId) {
  selected = callId;
  $('transcript-call').textContent = calls.get(callId)?.caller ?? callId;
  $('transcript').replaceChildren();
  renderCalls();
  const t = await getJson(`/console/api/calls/${encodeURIComponent(callId)}/transcript`);
  if (selected !== callId) return;
  for (const turn of t.turns) addTurn(turn);
}

function apply(ev) {
  switch (ev.type) {
    case 'call':
      if (ended.has(ev.call.callId)) return;
      calls.set(ev.call.callId, { ...calls.get(ev.call.callId), ...ev.call });
      renderCalls();
      break;
    case 'speaking': {
      const c = calls.get(ev.callId);
      if (c) {
        c.speaking = ev.who;
        renderCalls();
      }
      break;
    }
    case 'turn': {
      const c = calls.get(ev.callId);
      if (c) {
        c.turns = Math.max(c.turns, ev.turn.seq);
        renderCalls();
      }
      if (ev.callId === selected) addTurn(ev.turn);
      break;
    }
    case 'barge-in':
      if (ev.callId === selected) $('transcript').append(el('li', { className: 'barge' }, `barge-in after ${(ev.playedMs / 1000).toFixed(1)} s of the agent`));
      break;
    case 'ended':
      ended.add(ev.callId);
      calls.delete(ev.callId);
      renderCalls();
      if (ev.callId === selected) $('transcript-call').textContent += ` (ended: ${ev.outcome})`;
      clearTimeout(summaryTimer);
      summaryTimer = setTimeout(() => void loadSummary().catch(() => undefined), 500);
      break;
    default:
      break;
  }
  // For latency measurements: the last event's publish time and when this page applied it.
  window.__consoleLastEvent = { at: ev.at, type: ev.type, appliedAt: Date.now() };
}

function connect() {
  const source = new EventSource('/console/stream');
  source.addEventListener('open', () => {
    $('stream-state').textContent = 'live';
    $('stream-state').className = 'badge live';
    void loadCalls().catch(() => undefined);
  });
  source.addEventListener('message', (m) => apply(JSON.parse(m.data)));
  source.addEventListener('reset', () => {
    calls.clear();
    void loadCalls().catch(() => undefined);
  });
  source.addEventListener('error', () => {
    $('stream-state').textContent = 'reconnecting…';
    $('stream-state').className = 'badge';
    // Closed for good (401: the session ended): back to sign-in.
    if (source.readyState === EventSource.CLOSED) void getJson('/console/api/session').catch(() => undefined);
  });
}

$('logout').addEventListener('click', async () => {
  await fetch('/console/logout', { method: 'POST', credentials: 'same-origin' });
  location.assign('/console/login');
});

connect();
void loadSummary().catch(() => undefined);
setInterval(tickDurations, 1000);
// Replica health changes without call events: refreshed from the cached view.
setInterval(() => void loadCalls().catch(() => undefined), 10_000);
