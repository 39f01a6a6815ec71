// chatmock console: plain script, no build step, no outside resource. Every value from the mock
// is put into the page as text (textContent), never as markup.
"use strict";

const ADMIN = "/__chatmock";
const MAX_ROWS = 1000; // traffic rows kept in the page; older ones are loaded again on demand
const $ = (id) => document.getElementById(id);
const state = {
  apis: [],
  rooms: {}, // api -> rooms answer
  room: null, // {api, id, name}
  messages: [], // the open room's messages, oldest first
  before: null, // cursor of the page before the oldest shown
  traffic: { oldest: null, filters: {}, held: 0 },
  catalogue: [],
};

// the admin API -------------------------------------------------------------------------------
async function admin(path, options = {}) {
  const init = { method: options.method || "GET", headers: {}, credentials: "same-origin" };
  if (options.json !== undefined) {
    init.method = options.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(ADMIN + path, init);
  if (response.status === 401) {
    showLogin();
    throw new Error("admin token required");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.error) || `${response.status}`);
  return body;
}

function showLogin() {
  $("login").hidden = false;
  document.querySelector("main").hidden = true;
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  // the documented cookie route: the answer sets an HttpOnly cookie and redirects here
  location.href = `${ADMIN}/?admin_token=${encodeURIComponent($("login-token").value)}`;
});

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function option(select, value, label) {
  const node = el("option", label === undefined ? value : label);
  node.value = value;
  select.appendChild(node);
}

function show(target, value) {
  $(target).textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// tabs ------------------------------------------------------------------------------------
for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => {
    for (const other of document.querySelectorAll("#tabs button")) other.classList.toggle("active", other === button);
    for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== `tab-${button.dataset.tab}`;
    if (button.dataset.tab === "control") loadControl();
  });
}

// rooms -----------------------------------------------------------------------------------
async function loadRooms(api) {
  const answer = await admin(`/console/rooms?api=${encodeURIComponent(api)}`);
  state.rooms[api] = answer;
  return answer;
}

async function showRoomList() {
  const api = $("rooms-api").value;
  const answer = await loadRooms(api);
  const list = $("rooms-list");
  list.replaceChildren();
  for (const room of answer.rooms) {
    const item = el("li", room.name);
    item.dataset.room = room.id;
    item.title = room.id;
    if (state.room && state.room.api === api && state.room.id === room.id) item.classList.add("active");
    item.addEventListener("click", () => openRoom(api, room));
    list.appendChild(item);
  }
}

async function openRoom(api, room) {
  state.room = { api, id: room.id, name: room.name, members: room.members };
  for (const item of $("rooms-list").children) item.classList.toggle("active", item.dataset.room === room.id);
  $("room-title").textContent = `${room.name} (${api})`;
  $("room-members").textContent = room.members.length ? `members: ${room.members.join(", ")}` : "";
  state.messages = [];
  state.before = null;
  await refreshRoom();
}

function messageQuery(before) {
  const room = state.room;
  let query = `/console/messages?api=${encodeURIComponent(room.api)}&room=${encodeURIComponent(room.id)}`;
  if (before) query += `&before=${encodeURIComponent(before)}`;
  return query;
}

async function refreshRoom() {
  // the newest page, merged with what is shown (new messages appended, edited ones updated)
  const room = state.room;
  if (!room) return;
  const page = await admin(messageQuery(null));
  if (state.room !== room) return;
  const known = new Map(state.messages.map((message, index) => [message.id, index]));
  if (!state.messages.length) state.before = page.before;
  for (const message of page.messages) {
    if (known.has(message.id)) state.messages[known.get(message.id)] = message;
    else state.messages.push(message);
  }
  renderTranscript(true);
}

async function olderMessages() {
  if (!state.room || !state.before) return;
  const page = await admin(messageQuery(state.before));
  const known = new Set(state.messages.map((message) => message.id));
  state.messages = page.messages.filter((message) => !known.has(message.id)).concat(state.messages);
  state.before = page.before;
  renderTranscript(false);
}

function renderTranscript(toBottom) {
  const list = $("transcript");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.replaceChildren();
  for (const message of state.messages) {
    const item = el("li");
    item.dataset.id = message.id;
    item.appendChild(el("span", message.id, "id"));
    item.appendChild(el("span", message.user, "who"));
    item.appendChild(el("span", message.text, "text"));
    item.appendChild(el("span", message.time, "when"));
    list.appendChild(item);
  }
  $("room-older").hidden = !state.before;
  if (toBottom && (atBottom || list.scrollTop === 0)) list.scrollTop = list.scrollHeight;
}

$("rooms-api").addEventListener("change", () => showRoomList().catch(report));
$("room-older").addEventListener("click", () => olderMessages().catch(report));

// talk --------------------------------------------------------------------------------------
async function fillTalk() {
  const api = $("talk-api").value;
  const answer = state.rooms[api] || (await loadRooms(api));
  const rooms = $("talk-room");
  const users = $("talk-user");
  const room = rooms.value;
  rooms.replaceChildren();
  users.replaceChildren();
  for (const found of answer.rooms) option(rooms, found.id, found.name);
  if (room) rooms.value = room;
  for (const user of answer.users) option(users, user);
  $("talk-edit-label").hidden = !answer.can_edit;
  $("talk-delete-label").hidden = !answer.can_delete;
}

$("talk-api").addEventListener("change", () => fillTalk().catch(report));
$("talk-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const request = { api: $("talk-api").value, room: $("talk-room").value, user: $("talk-user").value, text: $("talk-text").value };
  if ($("talk-edit").value && !$("talk-edit-label").hidden) request.edit = $("talk-edit").value;
  if ($("talk-delete").value && !$("talk-delete-label").hidden) {
    request.delete = $("talk-delete").value;
    delete request.edit;
  }
  try {
    const answer = await admin("/console/talk", { json: request });
    show("talk-result", answer);
    if (answer.status < 400) {
      $("talk-text").value = "";
      $("talk-delete").value = "";
    }
  } catch (error) {
    show("talk-result", String(error.message || error));
  }
});

// traffic -------------------------------------------------------------------------------------
function filters() {
  return {
    api: $("filter-api").value,
    endpoint: $("filter-endpoint").value.trim(),
    status: $("filter-status").value.trim(),
    user: $("filter-user").value.trim(),
    violations: $("filter-violations").checked ? "1" : "",
    fault: $("filter-fault").checked ? "1" : "",
  };
}

function matches(exchange, given) {
  if (given.api && exchange.api !== given.api) return false;
  if (given.endpoint && exchange.endpoint !== given.endpoint) return false;
  if (given.user && exchange.user !== given.user) return false;
  if (given.violations && !exchange.violations) return false;
  if (given.fault && !exchange.fault) return false;
  if (given.status) {
    const text = String(exchange.status);
    if (/^\dxx$/i.test(given.status) ? text[0] !== given.status[0] : text !== given.status) return false;
  }
  return true;
}

function trafficRow(exchange) {
  const row = el("tr", null, "row");
  row.dataset.seq = exchange.seq;
  if (exchange.violations) row.classList.add("violation");
  else if (exchange.fault) row.classList.add("faulted");
  const when = new Date(exchange.time * 1000).toISOString().slice(11, 23);
  const note = [exchange.violations ? `${exchange.violations} violation(s)` : "", exchange.fault ? `fault ${exchange.fault}` : ""].filter(Boolean).join("; ");
  const status = exchange.status === 0 ? "dropped" : exchange.status;
  for (const cell of [exchange.seq, when, exchange.api || "-", exchange.method, exchange.path, status, exchange.user || "", (exchange.duration * 1000).toFixed(1), note]) {
    row.appendChild(el("td", cell));
  }
  row.addEventListener("click", () => toggleExchange(row, exchange.seq));
  return row;
}

async function toggleExchange(row, seq) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail")) {
    next.remove();
    return;
  }
  const detail = el("tr", null, "detail");
  const cell = el("td");
  cell.colSpan = 9;
  detail.appendChild(cell);
  row.after(detail);
  try {
    const exchange = await admin(`/console/exchange/${seq}`);
    cell.appendChild(el("pre", exchange.curl, "curl"));
    if (exchange.violations.length) cell.appendChild(el("pre", exchange.violations.join("\n"), "violations"));
    const { curl, ...rest } = exchange;
    cell.appendChild(el("pre", JSON.stringify(rest, null, 2)));
  } catch (error) {
    cell.appendChild(el("pre", String(error.message || error)));
  }
}

function trafficQuery(before) {
  const given = state.traffic.filters;
  const parts = Object.entries(given).filter(([, value]) => value).map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  if (before) parts.push(`before=${before}`);
  return `/console/traffic?${parts.join("&")}`;
}

async function loadTraffic() {
  state.traffic.filters = filters();
  const page = await admin(trafficQuery(null));
  const rows = $("traffic-rows");
  rows.replaceChildren();
  for (const exchange of page.exchanges) rows.appendChild(trafficRow(exchange));
  state.traffic.oldest = page.before;
  $("traffic-older").hidden = !page.before;
  state.traffic.held = page.held;
  countLine(page.last);
}

function countLine(last) {
  $("traffic-count").textContent = `${state.traffic.held} exchanges in the journal; newest #${last}`;
}

async function olderTraffic() {
  if (!state.traffic.oldest) return;
  const page = await admin(trafficQuery(state.traffic.oldest));
  const rows = $("traffic-rows");
  for (const exchange of page.exchanges) rows.appendChild(trafficRow(exchange));
  state.traffic.oldest = page.before;
  $("traffic-older").hidden = !page.before;
}

function liveTraffic(exchanges) {
  const rows = $("traffic-rows");
  const given = state.traffic.filters;
  for (const exchange of exchanges) {
    if (matches(exchange, given)) rows.insertBefore(trafficRow(exchange), rows.firstChild);
  }
  if (exchanges.length) {
    state.traffic.held += exchanges.length;
    countLine(exchanges[exchanges.length - 1].seq);
  }
  let count = rows.querySelectorAll("tr.row").length;
  while (count > MAX_ROWS && rows.lastElementChild) {
    const last = rows.lastElementChild;
    if (last.classList.contains("row")) {
      count -= 1;
      state.traffic.oldest = Number(last.dataset.seq);
      $("traffic-older").hidden = false;
    }
    last.remove();
  }
}

$("traffic-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  loadTraffic().catch(report);
});
$("traffic-older").addEventListener("click", () => olderTraffic().catch(report));

// control ---------------------------------------------------------------------------------------
async function loadControl() {
  await Promise.all([loadClock(), loadFaults(), loadCatalogue(), loadStrict()]).catch(report);
}

async function loadClock(answer) {
  const clock = answer || (await admin("/clock"));
  $("clock-now").textContent = `${clock.now}${clock.frozen ? " (frozen)" : ""}`;
}

async function clock(json) {
  try {
    await loadClock(await admin("/clock", { json }));
  } catch (error) {
    show("world-result", String(error.message || error));
  }
}

$("clock-freeze-at").addEventListener("click", () => {
  const text = $("clock-freeze").value.trim();
  clock({ freeze: /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text });
});
$("clock-freeze-now").addEventListener("click", () => clock({ freeze: Date.now() / 1000 }));
$("clock-run").addEventListener("click", () => clock({ freeze: null }));
$("clock-advance-by").addEventListener("click", () => clock({ advance: Number($("clock-advance").value) }));

async function loadStrict(answer) {
  const found = answer || (await admin("/strict"));
  $("strict-toggle").checked = found.strict;
  $("strict-badge").textContent = found.strict ? "strict" : "lenient";
}

$("strict-toggle").addEventListener("change", async () => {
  await loadStrict(await admin("/strict", { json: { strict: $("strict-toggle").checked } })).catch(report);
});

$("reset").addEventListener("click", async () => {
  try {
    show("world-result", await admin("/reset", { method: "POST" }));
    await afterWorldChange();
  } catch (error) {
    show("world-result", String(error.message || error));
  }
});

$("seed-file").addEventListener("change", async () => {
  const file = $("seed-file").files[0];
  if (file) $("seed-text").value = await file.text();
});

$("seed-load").addEventListener("click", async () => {
  let seed;
  try {
    seed = JSON.parse($("seed-text").value);
  } catch (error) {
    show("world-result", `not JSON: ${error.message}`);
    return;
  }
  try {
    show("world-result", await admin("/seed", { json: seed }));
    await afterWorldChange();
  } catch (error) {
    show("world-result", String(error.message || error));
  }
});

async function afterWorldChange() {
  state.rooms = {};
  state.room = null;
  state.messages = [];
  $("transcript").replaceChildren();
  $("room-title").textContent = "Pick a room";
  $("room-members").textContent = "";
  await Promise.all([showRoomList(), fillTalk(), loadFaults(), loadClock()]);
}

function describeRule(rule) {
  return ["api", "endpoint", "method", "user"].filter((key) => rule[key]).map((key) => `${key}=${rule[key]}`).join(" ") || "everything";
}

async function loadFaults() {
  const answer = await admin("/faults");
  const rows = $("fault-rows");
  rows.replaceChildren();
  const skip = new Set(["id", "action", "api", "endpoint", "method", "user", "times", "probability", "applied", "left"]);
  for (const rule of answer.faults) {
    const row = el("tr");
    const options = Object.entries(rule).filter(([key]) => !skip.has(key)).map(([key, value]) => `${key}=${value}`);
    if (rule.probability < 1) options.push(`p=${rule.probability}`);
    for (const cell of [rule.id, rule.action, describeRule(rule), options.join(" "), rule.applied, rule.left === null ? "always" : rule.left]) row.appendChild(el("td", cell));
    const remove = el("button", "remove");
    remove.addEventListener("click", async () => {
      await admin(`/faults/${rule.id}`, { method: "DELETE" }).catch(report);
      await loadFaults();
    });
    const cell = el("td");
    cell.appendChild(remove);
    row.appendChild(cell);
    rows.appendChild(row);
  }
}

$("fault-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const rule = { action: $("fault-action").value };
  for (const key of ["api", "endpoint", "method", "user"]) {
    const value = $(`fault-${key}`).value.trim();
    if (value) rule[key] = value;
  }
  const times = $("fault-times").value.trim();
  rule.times = times === "" ? null : Number(times);
  const probability = $("fault-probability").value.trim();
  if (probability !== "") rule.probability = Number(probability);
  const options = $("fault-options").value.trim();
  try {
    if (options) Object.assign(rule, JSON.parse(options));
    const answer = await admin("/faults", { json: rule });
    show("fault-result", answer);
    await loadFaults();
  } catch (error) {
    show("fault-result", String(error.message || error));
  }
});

$("fault-clear").addEventListener("click", async () => {
  await admin("/faults", { method: "DELETE" }).catch(report);
  await loadFaults();
});

async function loadCatalogue() {
  if (!state.catalogue.length) state.catalogue = (await admin("/console/catalogue")).endpoints;
  renderCatalogue();
}

function renderCatalogue() {
  const wanted = $("catalogue-filter").value.trim().toLowerCase();
  const rows = $("catalogue-rows");
  rows.replaceChildren();
  for (const endpoint of state.catalogue) {
    if (wanted && !`${endpoint.id} ${endpoint.path} ${endpoint.summary}`.toLowerCase().includes(wanted)) continue;
    const row = el("tr");
    for (const cell of [endpoint.id, endpoint.methods.join("|"), endpoint.path, endpoint.statuses.join(", "), endpoint.summary]) row.appendChild(el("td", cell));
    row.addEventListener("click", async () => show("catalogue-detail", await admin(`/console/endpoint/${encodeURIComponent(endpoint.id)}`).catch((error) => String(error))));
    rows.appendChild(row);
  }
}

$("catalogue-filter").addEventListener("input", renderCatalogue);

// live: server-sent events from the admin API ---------------------------------------------------
let roomRefresh = null;

function onExchanges(exchanges) {
  liveTraffic(exchanges);
  const room = state.room;
  if (!room) return;
  // a write answered by the open room's API may have changed it: reload its newest page
  const wrote = exchanges.some((exchange) => exchange.api === room.api && exchange.method !== "GET" && exchange.status < 400);
  if (wrote && !roomRefresh) {
    roomRefresh = setTimeout(() => {
      roomRefresh = null;
      refreshRoom().catch(report);
    }, 30);
  }
}

function connect() {
  const source = new EventSource(`${ADMIN}/console/events`);
  source.addEventListener("hello", () => {
    $("live").textContent = "live";
    $("live").classList.remove("off");
  });
  source.addEventListener("exchanges", (event) => onExchanges(JSON.parse(event.data)));
  source.addEventListener("gap", () => loadTraffic().catch(report));
  source.addEventListener("reset", () => {
    loadTraffic().catch(report);
    if (state.room) refreshRoom().catch(() => undefined);
  });
  source.onerror = () => {
    // a stream ends every few seconds and the browser reconnects at once (resuming by event id)
    if (source.readyState !== EventSource.CLOSED) return;
    $("live").textContent = "offline";
    $("live").classList.add("off");
  };
}

function report(error) {
  if (String(error && error.message) === "admin token required") return;
  const line = $("traffic-count");
  if (line) line.textContent = `error: ${error && error.message ? error.message : error}`;
}

async function start() {
  const session = await admin("/console/session");
  if (session.token && !session.authorized) {
    showLogin();
    return;
  }
  const health = await admin("/health");
  state.apis = health.apis;
  $("strict-badge").textContent = health.strict ? "strict" : "lenient";
  for (const select of ["rooms-api", "talk-api"]) for (const api of state.apis) option($(select), api);
  for (const select of ["filter-api", "fault-api"]) for (const api of state.apis) option($(select), api);
  connect();
  await Promise.all([showRoomList(), fillTalk(), loadTraffic()]);
  document.body.dataset.ready = "1";
}

start().catch(report);
