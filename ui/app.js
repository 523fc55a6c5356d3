// kittyd's dashboard. Plain ES2020, no build step, no dependencies: kittyd serves this file from
// its own binary under a Content-Security-Policy that allows nothing but its own files, so the
// page builds its DOM with createElement/textContent only (never innerHTML with data) and sets
// styles through the CSSOM (el.style.width), never through style="" attributes.
//
// What the page shows comes from kittyd's admin API (docs/API.md):
//   GET  /kitty/system/workers, /kitty/system/memory   the models and the machine
//   GET  /kitty/events                                 the lifecycle, as server-sent events
//   GET  /kitty/workers/{id}/logs?tail=N | ?since=K    a worker's log (the one thing polled)
//   POST /kitty/workers/{id}/ensure|release|pin|unpin|restart
// The status is not polled: every event on the stream triggers one re-fetch of the status
// (coalesced), so the page changes when kittyd changes and costs nothing while nothing happens.

const KEY_STORAGE = "kitty.adminKey";
const MAX_EVENTS = 200;
const MAX_LOG_LINES = 2000;
const LOG_TAIL = 200;
const LOG_POLL_MS = 1000;
// kittyd sends a comment after this many quiet seconds; three missed in a row mean the
// connection is dead even if the browser has not noticed (a suspended laptop, a dropped NAT).
const HEARTBEAT_S = 10;
const STREAM_STALL_MS = HEARTBEAT_S * 3 * 1000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
const STATES = ["stopped", "starting", "ready", "stopping", "failed"];
const PRESSURE_KINDS = ["ram", "gpu", "cpu", "disk"];

// --- small helpers -------------------------------------------------------------------------------

const $ = (sel) => document.querySelector(sel);

/** A new element with a class and text (text goes through textContent: never parsed as HTML). */
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = String(text);
  return e;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Bytes in binary units, as kittyd's own messages write them (MiB, GiB). */
function fmtBytes(n) {
  if (n == null || !Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** A duration in seconds as "42 s", "3 m 07 s", "2 h 05 m". */
function fmtDuration(s) {
  if (s == null || !Number.isFinite(s)) return "–";
  if (s < 0) s = 0;
  if (s < 60) return `${Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** An ISO time as the local wall clock (HH:MM:SS); the date only when it is not today. */
function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const time = d.toLocaleTimeString([], { hour12: false });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

const workerPath = (id, action) => `/kitty/workers/${encodeURIComponent(id)}/${action}`;

// --- the admin key and API calls -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code || null;
  }
}

function adminKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return ""; // storage disabled: the key then lasts as long as the form's input
  }
}

function setAdminKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: nothing to keep */
  }
}

function authHeaders(key) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** The JSON body of a response, or null when it has none (or it is not JSON). */
async function readJson(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/** One call to kittyd's API. Resolves to the JSON body; rejects with an ApiError carrying
 * kittyd's OpenAI-shaped error ({"error": {"message", "type", "code"}}). A 401 also brings up
 * the key form (see onUnauthorized). */
async function api(method, path) {
  const key = adminKey();
  let res;
  try {
    res = await fetch(path, { method, headers: authHeaders(key), cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, `kittyd did not answer (${e.message})`, "network");
  }
  const body = await readJson(res);
  if (res.status === 401) {
    onUnauthorized(key);
    throw new ApiError(401, "the admin key was refused", "invalid_api_key");
  }
  if (!res.ok) {
    const err = body && body.error;
    const message = err && err.message ? err.message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message, err && err.code);
  }
  return body;
}

// --- the error area ------------------------------------------------------------------------------
// Errors stay until dismissed, or until what caused them works again (each has a tag: "auth",
// "status", "logs", "action"), so that a failed button press is not lost in the next refresh.

const errors = [];

function showError(message, tag) {
  const i = errors.findIndex((e) => e.message === message);
  if (i >= 0) errors.splice(i, 1); // the same error again: move it to the top, once
  errors.unshift({ message, tag, at: new Date() });
  errors.length = Math.min(errors.length, 6);
  renderErrors();
}

function clearErrors(tag) {
  const before = errors.length;
  for (let i = errors.length - 1; i >= 0; i -= 1) if (!tag || errors[i].tag === tag) errors.splice(i, 1);
  if (errors.length !== before) renderErrors();
}

function renderErrors() {
  const list = $("#error-list");
  list.replaceChildren(
    ...errors.map((e) => {
      const li = el("li");
      li.append(el("time", "muted", e.at.toLocaleTimeString([], { hour12: false })), " ", e.message);
      return li;
    }),
  );
  $("#error").hidden = errors.length === 0;
}

// --- authentication ------------------------------------------------------------------------------
// With server.admin_keys configured every /kitty/* call needs the key; kittyd answers 401 without
// it. The page then asks for the key, keeps it for this tab (sessionStorage) and sends it on every
// call, the event stream included (which is why the stream is read with fetch(): EventSource
// cannot send an Authorization header).

// True once kittyd refused a call for want of the key: the stream and the log wait for the form.
let needsKey = false;

function onUnauthorized(sentKey) {
  needsKey = true;
  if (sentKey) {
    // Forget a refused key only if it is still the current one (a newer key may be on its way).
    if (adminKey() === sentKey) setAdminKey("");
    showError("the admin key was refused: check it against server.admin_keys", "auth");
  }
  setConn("off", "needs the admin key");
  $("#key-form").hidden = false;
  $("#admin-key").focus();
}

async function onKeySubmit(ev) {
  ev.preventDefault();
  const input = $("#admin-key");
  const key = input.value.trim();
  if (!key) return;
  setAdminKey(key);
  const button = $("#key-form button");
  button.disabled = true;
  try {
    await loadStatus(); // a wrong key ends here: onUnauthorized showed the error, the form stays
  } catch (e) {
    if (e.status !== 401) showError(`status: ${e.message}`, "status");
    return;
  } finally {
    button.disabled = false;
  }
  input.value = "";
  $("#key-form").hidden = true;
  clearErrors("auth");
  startLive();
}

// --- status: workers and memory ------------------------------------------------------------------

const view = {
  workers: new Map(), // model id → { w: the worker's JSON, at: performance.now() when fetched }
  rows: new Map(), // model id → its <tr>
  memory: null, // GET /kitty/system/memory
  pending: new Set(), // "id:action" of the button calls in flight
};

/** Fetches the workers and the memory and renders them; rejects on an error. */
async function loadStatus() {
  const [workers, memory] = await Promise.all([
    api("GET", "/kitty/system/workers"),
    api("GET", "/kitty/system/memory"),
  ]);
  needsKey = false;
  view.memory = memory;
  renderMemory(memory);
  renderWorkers(workers.workers || []);
  clearErrors("status");
}

// Events come in bursts (a start is four of them, a reconnect replays hundreds): at most one
// status fetch runs, and at most one more is queued behind it, whatever the number of events.
let refreshing = false;
let refreshQueued = false;

function scheduleRefresh() {
  if (refreshing) {
    refreshQueued = true;
    return;
  }
  refreshing = true;
  loadStatus()
    .catch((e) => {
      if (e.status !== 401) showError(`status: ${e.message}`, "status");
    })
    .finally(() => {
      refreshing = false;
      if (refreshQueued) {
        refreshQueued = false;
        scheduleRefresh();
      }
    });
}

/** The bytes the worker holds, by what the scheduler counts (footprint on macOS, else PSS, else
 * RSS), or what it is expected to take when nothing is measured (shown dimmed). `expected` is
 * the scheduler's plan for a start, drawn behind the measured figure while the model loads. */
function workerMemory(w) {
  const m = w.memory || {};
  const measured = m.footprint_bytes ?? m.pss_bytes ?? m.rss_bytes;
  const expected = m.expected_bytes ?? null;
  if (measured != null) return { bytes: measured, measured: true, expected };
  if (expected != null) return { bytes: expected, measured: false, expected };
  return null;
}

/** What the models may use: the configured budget, or for an auto budget what is available now
 * (less kittyd's reserve) plus what the workers already hold. */
function memoryBudget(mem) {
  if (!mem) return null;
  if (mem.budget_bytes != null) return mem.budget_bytes;
  if (mem.available_bytes == null) return null;
  const workers = mem.workers_bytes || 0;
  return Math.max(workers, mem.available_bytes - (mem.reserve_bytes || 0) + workers);
}

/** Sets a bar's fill to a fraction (0..1, clamped); over 1 marks the bar as over. */
function setBar(bar, fraction) {
  const f = fraction == null || !Number.isFinite(fraction) ? 0 : fraction;
  setWidth(bar.querySelector(".fill"), f);
  bar.classList.toggle("over", f > 1);
}

function setWidth(span, fraction) {
  span.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
}

function renderWorkers(list) {
  const tbody = $("#model-rows");
  const now = performance.now();
  const seen = new Set();
  list.forEach((w, i) => {
    const id = w.model_id;
    seen.add(id);
    view.workers.set(id, { w, at: now });
    let row = view.rows.get(id);
    if (!row) {
      row = createRow(id);
      view.rows.set(id, row);
    }
    // Keep the order kittyd gives (the config's), moving rows only when it changed, so a
    // button under the pointer is not replaced while it is clicked.
    if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null);
    updateRow(row, w);
  });
  for (const [id, row] of view.rows) {
    if (seen.has(id)) continue; // a model removed by a config reload goes away
    row.remove();
    view.rows.delete(id);
    view.workers.delete(id);
    if (logs.model === id) closeLogs();
  }
  $("#models-empty").hidden = list.length > 0;
}

/** One worker's answer to a button (the routes return W): show it at once. */
function renderWorker(w) {
  const row = view.rows.get(w.model_id);
  if (!row) return;
  view.workers.set(w.model_id, { w, at: performance.now() });
  updateRow(row, w);
}

/** A table cell with the label the phone layout shows beside its value (CSS: td::before). */
function cell(row, className, label) {
  const td = el("td", className);
  if (label) td.dataset.label = label;
  row.append(td);
  return td;
}

const ACTIONS = [
  ["ensure", "start it (if needed) and wait until ready"],
  ["release", "stop it gracefully (requests in flight finish first)"],
  ["pin", "never evict or idle it out"],
  ["restart", "release, then start again"],
  ["logs", "follow its log"],
];

function createRow(id) {
  const row = el("tr", "model");
  row.dataset.model = id;

  const name = cell(row, "c-model");
  name.append(el("span", "model-id", id));
  const pin = el("span", "pin-marker", "pinned");
  pin.dataset.field = "pinned";
  pin.title = "pinned: never evicted, never idled out";
  name.append(pin, el("span", "model-sub muted"));

  const st = cell(row, "c-state");
  const badge = el("span", "state");
  badge.dataset.field = "state";
  const progress = el("div", "bar progress");
  progress.dataset.field = "progress";
  progress.append(el("span", "fill"));
  const detail = el("div", "detail muted");
  detail.dataset.field = "detail";
  st.append(badge, progress, detail);

  const mem = cell(row, "c-memory", "Memory");
  const bar = el("div", "bar");
  bar.append(el("span", "ghost"), el("span", "fill"));
  const memText = el("span", "mem-text");
  memText.dataset.field = "memory";
  mem.append(bar, memText);

  for (const [field, label] of [["idle", "Idle"], ["in_flight", "In flight"], ["holds", "Holds"], ["class", "Class"]]) {
    const td = cell(row, `c-${field} num`, label);
    td.dataset.field = field;
  }

  const actions = cell(row, "c-actions");
  for (const [action, title] of ACTIONS) {
    const b = el("button", `act act-${action}`, action);
    b.type = "button";
    b.dataset.action = action;
    b.title = title;
    actions.append(b);
  }
  return row;
}

function field(row, name) {
  return row.querySelector(`[data-field="${name}"]`);
}

function updateRow(row, w) {
  const id = w.model_id;
  const status = STATES.includes(w.status) ? w.status : "unknown";
  const badge = field(row, "state");
  badge.textContent = w.status;
  badge.className = `state state-${status}`;
  row.classList.toggle("is-ready", status === "ready");

  field(row, "pinned").hidden = !w.pinned;
  const sub = [w.backend, ...(w.aliases || [])].filter(Boolean).join(" · ");
  row.querySelector(".model-sub").textContent = sub;

  // Memory against the budget: measured when running, else the expected footprint (dimmed).
  const mem = workerMemory(w);
  const budget = memoryBudget(view.memory);
  const memCell = row.querySelector(".c-memory");
  const bar = memCell.querySelector(".bar");
  memCell.classList.toggle("expected", mem != null && !mem.measured);
  setBar(bar, mem && mem.measured && budget ? mem.bytes / budget : 0);
  // While a model loads, what it will take shows behind what it holds so far.
  const ghost = mem && budget && (!mem.measured || status === "starting") ? (mem.expected ?? 0) / budget : 0;
  setWidth(bar.querySelector(".ghost"), ghost);
  let memText = "–";
  if (mem && !mem.measured) memText = `${fmtBytes(mem.bytes)} expected`;
  else if (mem && status === "starting" && mem.expected > mem.bytes) memText = `${fmtBytes(mem.bytes)} of ~${fmtBytes(mem.expected)}`;
  else if (mem) memText = fmtBytes(mem.bytes);
  field(row, "memory").textContent = memText;
  memCell.title = memoryTitle(w, budget);

  field(row, "in_flight").textContent = String(w.in_flight ?? 0);
  const holds = w.holds || [];
  const holdsCell = field(row, "holds");
  holdsCell.textContent = String(holds.length);
  holdsCell.title = holds.map((h) => `${h.owner || h.id}: ${fmtDuration(h.expires_in_seconds)} left`).join("\n");
  const cls = field(row, "class");
  cls.textContent = w.class || "–";
  cls.className = `c-class num${w.class ? ` class-${w.class}` : ""}`;

  updateClock(row, view.workers.get(id), performance.now());
  updateButtons(row, w);
  row.classList.toggle("selected", logs.model === id);
}

function memoryTitle(w, budget) {
  const m = w.memory || {};
  const parts = [];
  if (m.pss_bytes != null) parts.push(`PSS ${fmtBytes(m.pss_bytes)}`);
  if (m.rss_bytes != null) parts.push(`RSS ${fmtBytes(m.rss_bytes)}`);
  if (m.footprint_bytes != null) parts.push(`footprint ${fmtBytes(m.footprint_bytes)}`);
  if (m.gpu_bytes != null) parts.push(`GPU ${fmtBytes(m.gpu_bytes)}`);
  if (m.peak_bytes != null) parts.push(`peak ${fmtBytes(m.peak_bytes)}`);
  if (m.expected_bytes != null) parts.push(`expected ${fmtBytes(m.expected_bytes)} (${m.basis})`);
  if (budget) parts.push(`budget ${fmtBytes(budget)}`);
  return parts.join(" · ");
}

function updateButtons(row, w) {
  for (const b of row.querySelectorAll("button[data-action]")) {
    const action = b.dataset.action;
    const busy = view.pending.has(`${w.model_id}:${action}`);
    b.classList.toggle("busy", busy);
    let off = busy;
    if (action === "ensure") off = off || w.status === "ready";
    if (action === "release") off = off || (w.status === "stopped" && !(w.restart && w.restart.next_in_seconds != null));
    if (action === "pin") {
      b.textContent = w.pinned ? "unpin" : "pin";
      b.setAttribute("aria-pressed", String(Boolean(w.pinned)));
    }
    if (action === "logs") b.setAttribute("aria-pressed", String(logs.model === w.model_id));
    b.disabled = off;
  }
}

// --- what ticks locally: idle time and load progress ---------------------------------------------
// kittyd's figures are as of the last fetch; between events the page adds the time since, so the
// idle column counts up each second without asking kittyd.

function updateClock(row, entry, now) {
  if (!entry) return;
  const { w, at } = entry;
  const since = (now - at) / 1000;
  const idle = field(row, "idle");
  if (w.idle_seconds == null) {
    idle.textContent = "–";
  } else {
    const counting = w.status === "ready" && !(w.in_flight > 0);
    idle.textContent = fmtDuration(w.idle_seconds + (counting ? since : 0));
  }
  idle.title = w.idles_out_in_seconds != null
    ? `idles out in ${fmtDuration(w.idles_out_in_seconds - (w.status === "ready" ? since : 0))}`
    : "";
  renderProgress(row, w, since);
}

/** While starting: the load phase and a fraction, from the worker's `progress` (kittyd's reading
 * of the engine's log, or elapsed / expected load time); otherwise why the model is as it is. */
function renderProgress(row, w, since) {
  const bar = field(row, "progress");
  const detail = field(row, "detail");
  const p = w.status === "starting" ? w.progress : null;
  if (p) {
    const elapsed = (p.elapsed_seconds ?? 0) + since;
    let fraction = p.fraction;
    if (fraction == null && p.expected_seconds) fraction = Math.min(0.99, elapsed / p.expected_seconds);
    bar.hidden = fraction == null;
    setBar(bar, fraction);
    const phase = (p.phase || "loading").replace(/_/g, " ");
    const pct = fraction != null ? ` ${Math.floor(fraction * 100)}%` : "";
    const of = p.expected_seconds ? ` of ~${fmtDuration(p.expected_seconds)}` : "";
    detail.textContent = `${phase}${pct} · ${fmtDuration(elapsed)}${of}`;
    return;
  }
  bar.hidden = true;
  detail.textContent = statusDetail(w, since);
  detail.title = detail.textContent; // the cell shows three lines of it
}

function statusDetail(w, since) {
  const r = w.restart || {};
  if (r.gave_up) return `gave up restarting: ${w.last_error || "see the log"}`;
  if (r.next_in_seconds != null) {
    return `restart ${r.attempts ? `#${r.attempts} ` : ""}in ${fmtDuration(Math.max(0, r.next_in_seconds - since))}`;
  }
  if (w.status === "failed" && w.last_error) return w.last_error;
  if (w.status === "starting") return "starting…";
  if (w.config_pending) return "new config waits for requests to end";
  if (w.downgrade && w.downgrade.rung > 0) return `downgraded: rung ${w.downgrade.rung} of ${w.downgrade.rungs}`;
  if (w.last_exit && w.status === "stopped") return `last exit: ${w.last_exit.class}`;
  return "";
}

function tick() {
  const now = performance.now();
  for (const [id, row] of view.rows) updateClock(row, view.workers.get(id), now);
}

// --- system memory -------------------------------------------------------------------------------

function renderMemory(m) {
  const box = $("#memory");
  const set = (name, text) => {
    box.querySelector(`[data-field="${name}"]`).textContent = text;
  };
  const budget = memoryBudget(m);
  set("total", fmtBytes(m.total_bytes));
  set("available", fmtBytes(m.available_bytes));
  set("budget", m.budget_bytes != null
    ? `${fmtBytes(m.budget_bytes)}${m.budget && !/[KMGT]i?B$/i.test(m.budget) ? ` (${m.budget})` : ""}`
    : `auto (${fmtBytes(budget)})`);
  set("workers", fmtBytes(m.workers_bytes));
  const bar = $("#memory-bar");
  setBar(bar, budget ? (m.workers_bytes || 0) / budget : 0);
  bar.title = `workers ${fmtBytes(m.workers_bytes)} of ${fmtBytes(budget)}`;

  const pressure = m.pressure || {};
  const lastOf = (kind) => (pressure.events || []).filter((e) => e.kind === kind).pop();
  $("#pressure").replaceChildren(
    ...PRESSURE_KINDS.map((kind) => {
      const on = Boolean(pressure[kind]);
      const li = el("li", `chip ${on ? "chip-on" : "chip-off"}`, `${kind} ${on ? "pressure" : "ok"}`);
      li.dataset.pressure = kind;
      const last = lastOf(kind);
      if (last) li.title = `${fmtTime(last.at)}: ${last.message}`;
      return li;
    }),
  );

  const notes = [];
  for (const g of m.gpus || []) {
    notes.push(`GPU ${g.index} ${g.name}: ${fmtBytes(g.used_bytes)} of ${fmtBytes(g.total_bytes)} used`);
  }
  if (m.cgroup && m.cgroup.max_bytes != null) {
    notes.push(`cgroup ${m.cgroup.path}: ${fmtBytes(m.cgroup.current_bytes)} of ${fmtBytes(m.cgroup.max_bytes)}`);
  }
  if (m.max_models != null) notes.push(`at most ${m.max_models} models`);
  if ((m.waiting || []).length) notes.push(`waiting for room: ${m.waiting.join(", ")}`);
  if ((m.restore_queue || []).length) notes.push(`to restore: ${m.restore_queue.join(", ")}`);
  $("#memory-notes").textContent = notes.join(" · ");
}

// --- the event feed and the event stream ---------------------------------------------------------

let lastEventId = null;
// A restarted kittyd numbers its events from 1 again: the Last-Event-ID of the old one would hide
// the new one's first events. When kittyd started (ms since the epoch, from /health's uptime)
// and when the stream last ended tell a restart from a dropped connection.
let daemonStart = null;
let streamEndedAt = null;

function onDaemonRestart() {
  lastEventId = null;
  addEvent({ kind: "kittyd_restarted", model: null, time: new Date().toISOString(),
    message: "kittyd restarted: its events start again" });
}

function eventText(e) {
  const parts = [];
  if (e.reason) parts.push(e.reason);
  if (e.fraction != null) parts.push(`${Math.floor(e.fraction * 100)}%`);
  if (e.rung != null) parts.push(`rung ${e.rung}`);
  if (e.pid != null) parts.push(`pid ${e.pid}`);
  if (e.message) parts.push(e.message);
  return parts.join(" · ");
}

function addEvent(e) {
  const list = $("#events");
  // A load reports its progress as a run of `loading` events: keep only the latest of a run.
  const top = list.firstElementChild;
  if (e.kind === "loading" && top && top.dataset.kind === "loading" && top.dataset.eventModel === (e.model || undefined)) {
    top.remove();
  }
  const li = el("li", `event kind-${String(e.kind).replace(/[^a-z_]/g, "")}`);
  li.dataset.kind = e.kind;
  if (e.model) li.dataset.eventModel = e.model;
  const time = el("time", "ev-time muted", fmtTime(e.time));
  time.dateTime = e.time || "";
  li.append(time, el("span", "ev-kind", e.kind), el("span", "ev-model", e.model || "kittyd"),
    el("span", "ev-text muted", eventText(e)));
  list.prepend(li); // newest first
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function onStreamMessage(msg) {
  // After a reconnect kittyd sends only ids above Last-Event-ID: a lower one is a new kittyd.
  if (msg.id && lastEventId != null && Number(msg.id) <= Number(lastEventId)) onDaemonRestart();
  if (msg.id) lastEventId = msg.id;
  let e;
  try {
    e = JSON.parse(msg.data);
  } catch {
    return; // not an event of kittyd's: nothing to show
  }
  addEvent(e);
  scheduleRefresh();
}

/** Reads a text/event-stream body, calling onMessage({id, event, data}) per event and onBytes()
 * for every chunk (heartbeats included); resolves when the stream ends. */
async function readEventStream(body, onMessage, onBytes) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let msg = { id: null, event: "message", data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onBytes();
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") { // a blank line ends the event
        if (msg.data.length) onMessage({ id: msg.id, event: msg.event, data: msg.data.join("\n") });
        msg = { id: null, event: "message", data: [] };
        continue;
      }
      if (line.startsWith(":")) continue; // a comment: kittyd's heartbeat
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (name === "data") msg.data.push(value);
      else if (name === "id") msg.id = value;
      else if (name === "event") msg.event = value;
    }
  }
}

let streamRunning = false;

/** Follows /kitty/events for as long as the page is open: reconnects after a drop with backoff,
 * sending Last-Event-ID so that kittyd replays what happened meanwhile; stops on a 401 (the key
 * form restarts it). */
async function runEventStream() {
  if (streamRunning) return;
  streamRunning = true;
  let backoff = BACKOFF_FIRST_MS;
  try {
    for (;;) {
      const key = adminKey();
      const headers = authHeaders(key);
      if (lastEventId != null) headers["Last-Event-ID"] = lastEventId;
      const ctrl = new AbortController();
      let stall = null;
      const alive = () => {
        clearTimeout(stall);
        stall = setTimeout(() => ctrl.abort(), STREAM_STALL_MS);
      };
      try {
        alive();
        const res = await fetch(`/kitty/events?heartbeat=${HEARTBEAT_S}`, { headers, signal: ctrl.signal, cache: "no-store" });
        if (res.status === 401) {
          onUnauthorized(key);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
        needsKey = false;
        setConn("live", "live");
        backoff = BACKOFF_FIRST_MS;
        scheduleRefresh(); // what changed while the stream was down is in the status
        await readEventStream(res.body, onStreamMessage, alive);
      } catch (e) {
        if (e.name !== "AbortError") console.warn("event stream:", e);
      } finally {
        clearTimeout(stall);
        ctrl.abort();
        streamEndedAt = Date.now();
      }
      if (needsKey) return;
      for (let left = backoff; left > 0; left -= 1000) {
        setConn("off", `reconnecting in ${Math.ceil(left / 1000)} s`);
        await sleep(Math.min(1000, left));
      }
      setConn("off", "reconnecting…");
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      await loadHealth();
    }
  } finally {
    streamRunning = false;
  }
}

function setConn(kind, text) {
  const c = $("#conn");
  c.textContent = text;
  c.className = `conn conn-${kind}`;
}

function startLive() {
  runEventStream();
  if (logs.model) pollLogs(logs.gen);
}

// --- the log of a selected worker ----------------------------------------------------------------
// Logs are not events: the page asks for new lines every second while the log is shown
// (GET .../logs?tail=200 once, then ?since=<next> with the cursor kittyd returned).

const logs = { model: null, next: null, lines: [], timer: null, gen: 0, busy: false };

function selectModel(id) {
  if (logs.model === id) return;
  logs.model = id;
  logs.next = null;
  logs.lines = [];
  logs.gen += 1;
  clearTimeout(logs.timer);
  clearErrors("logs");
  $("#log").textContent = "";
  $("#log-model").textContent = id;
  $("#log-panel").hidden = false;
  for (const [rid, row] of view.rows) {
    row.classList.toggle("selected", rid === id);
    const b = row.querySelector('button[data-action="logs"]');
    if (b) b.setAttribute("aria-pressed", String(rid === id));
  }
  pollLogs(logs.gen);
}

function closeLogs() {
  logs.model = null;
  logs.gen += 1;
  clearTimeout(logs.timer);
  $("#log-panel").hidden = true;
  for (const row of view.rows.values()) {
    row.classList.remove("selected");
    const b = row.querySelector('button[data-action="logs"]');
    if (b) b.setAttribute("aria-pressed", "false");
  }
}

async function pollLogs(gen) {
  clearTimeout(logs.timer);
  const id = logs.model;
  // One chain of polls per selection: a call still out (for this model) schedules the next.
  if (!id || gen !== logs.gen || logs.busy) return;
  if (!document.hidden && !needsKey) {
    const query = logs.next == null ? `tail=${LOG_TAIL}` : `since=${logs.next}`;
    logs.busy = true;
    try {
      const r = await api("GET", `${workerPath(id, "logs")}?${query}`);
      if (gen !== logs.gen) return; // another model was selected meanwhile
      // Without a cursor (an older kittyd) each answer is the whole tail: replace, not append.
      if (r.next == null) logs.lines = [];
      appendLog(r.lines || [], r.next == null);
      logs.next = r.next ?? null;
      clearErrors("logs");
    } catch (e) {
      if (gen !== logs.gen) return;
      if (e.status === 401) return; // the key form takes over; a new key restarts polling
      showError(`logs of ${id}: ${e.message}`, "logs");
    } finally {
      logs.busy = false;
      if (gen !== logs.gen && logs.model) pollLogs(logs.gen); // the new selection waited for this one
    }
  }
  if (gen === logs.gen) logs.timer = setTimeout(() => pollLogs(gen), LOG_POLL_MS);
}

function appendLog(lines, replace) {
  if (!lines.length && !replace) return;
  const pre = $("#log");
  // Follow the end only if the reader is at the end: scrolling up to read stops the jumping.
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  logs.lines.push(...lines);
  if (logs.lines.length > MAX_LOG_LINES) logs.lines.splice(0, logs.lines.length - MAX_LOG_LINES);
  pre.textContent = logs.lines.length ? `${logs.lines.join("\n")}\n` : "";
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

// --- buttons -------------------------------------------------------------------------------------

async function runAction(row, button) {
  const id = row.dataset.model;
  const action = button.dataset.action;
  if (action === "logs") {
    selectModel(id);
    // On a phone the log is far below the card: bring it into view (a row click does not jump).
    $("#log-panel").scrollIntoView({ block: "nearest", behavior: "smooth" });
    return;
  }
  const entry = view.workers.get(id);
  const route = action === "pin" && entry && entry.w.pinned ? "unpin" : action;
  const key = `${id}:${action}`;
  if (view.pending.has(key)) return;
  view.pending.add(key);
  if (entry) updateButtons(row, entry.w);
  try {
    const w = await api("POST", workerPath(id, route));
    if (w && w.model_id === id) renderWorker(w);
  } catch (e) {
    if (e.status !== 401) showError(`${route} ${id}: ${e.message}${e.code ? ` (${e.code})` : ""}`, "action");
  } finally {
    view.pending.delete(key);
    const now = view.workers.get(id);
    if (now && view.rows.get(id)) updateButtons(view.rows.get(id), now.w);
    // A status fetched while the call ran may predate it, and pin/unpin raise no event: one
    // more fetch, queued behind any in flight, settles the row.
    scheduleRefresh();
  }
}

function onTableClick(ev) {
  const row = ev.target.closest("tr[data-model]");
  if (!row) return;
  const button = ev.target.closest("button[data-action]");
  if (button) runAction(row, button);
  else if (!window.getSelection().toString()) selectModel(row.dataset.model); // not while selecting text
}

// --- start ---------------------------------------------------------------------------------------

/** GET /health (always open): the version for the header, and whether kittyd restarted since
 * the last look (then the event ids start again: the stream reconnects without Last-Event-ID). */
async function loadHealth() {
  let h;
  try {
    const res = await fetch("/health", { cache: "no-store" });
    h = await res.json();
  } catch {
    return; // the stream and the status calls report a kittyd that does not answer
  }
  $("#version").textContent = h.version ? `v${h.version}` : "";
  $("#version").title = `up ${fmtDuration(h.uptime_seconds)}`;
  if (typeof h.uptime_seconds !== "number") return;
  const start = Date.now() - h.uptime_seconds * 1000; // uptime has 0.1 s steps
  const restarted = daemonStart != null
    && (Math.abs(start - daemonStart) > 1500 || (streamEndedAt != null && start > streamEndedAt - 200));
  if (restarted && lastEventId != null) onDaemonRestart();
  daemonStart = start;
}

async function init() {
  $("#key-form").addEventListener("submit", onKeySubmit);
  $("#error-close").addEventListener("click", () => clearErrors());
  $("#log-close").addEventListener("click", closeLogs);
  $("#model-rows").addEventListener("click", onTableClick);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !needsKey) scheduleRefresh();
  });
  setInterval(tick, 1000);
  loadHealth();
  try {
    await loadStatus();
  } catch (e) {
    if (e.status === 401) return; // the key form is up; submitting it starts the rest
    showError(`status: ${e.message}`, "status");
  }
  startLive();
}

init();
