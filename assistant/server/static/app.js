// The assistant in a browser tab: the microphone (or a typed command) → /v1/stream, events → the
// page, reply audio → the speakers; and, over the same connection, every device on the server.
//
// One WebSocket for the page's life (link.js). The page's own stream starts when the microphone
// is switched on, or with the first typed command (a stream that sends no audio); it ends with
// Stop. From its first stream the connection is this page's device (Settings: "this device"):
// its timers ring here. Everything shown is drawn from events: the page's own, and the hub's.

import { Microphone, SILENT_DB } from "./capture.js";
import { WakeGraph } from "./graph.js";
import { HubView } from "./hub.js";
import { Link } from "./link.js";
import { Player } from "./player.js";
import { loadPlugins } from "./plugins.js";
import { ms, renderLegend, renderTurn, scaleOf, TurnLog } from "./turns.js";

const $ = (id) => document.getElementById(id);
const MAX_LOG = 200;
const MAX_KEPT_EVENTS = 5000;
const KEEP_TURNS = 20;
const LEVEL_ARIA_MS = 250;
const STOP_TIMEOUT_MS = 15000;
const CONNECT_WAIT_MS = 10000;
const START_ERRORS = new Set(["bad_start", "stream_failed", "already_started", "bad_json", "bad_message"]);

window.assistantEvents = []; // the page's own stream's latest events, for people poking in the console (and for tests)

const turns = new TurnLog(KEEP_TURNS);
const hub = new HubView($("devices"), $("no-devices"), (message) => link.send({ type: "cancel", ...message }) || showProblem("not connected to the server"));
const graph = new WakeGraph($("wake-graph"), $("wake-legend"));
let context = null; // the AudioContext, made on the first click (browsers allow sound only after one)
let stream = null; // the page's own stream: {kind: "mic"|"text", mic, session}
let waiters = []; // [{match, fail, resolve, reject}] for events the page waits for

const player = new Player({
  context: () => context,
  enabled: () => $("speak").checked,
  onPlaying: (on) => (on ? ($("reply").dataset.playing = "true") : delete $("reply").dataset.playing),
});

const link = new Link({ onEvent, onBinary: (data) => player.bytes(data), onState: showLink });

// -- settings ---------------------------------------------------------------------------------------

const SETTINGS = ["token", "device", "area"];

// Settings come from the URL's fragment (`#token=...&device=kitchen`: a fragment never reaches the
// server's logs), else from the last visit; they are remembered, and the fragment is cleared.
function loadSettings() {
  const fromUrl = new URLSearchParams(location.hash.slice(1));
  for (const id of SETTINGS) $(id).value = fromUrl.get(id) || localStorage.getItem(`assistant.${id}`) || "";
  if (!$("device").value) $("device").value = `browser-${Math.random().toString(16).slice(2, 6)}`;
  const remember = (id) => localStorage.setItem(`assistant.${id}`, $(id).value.trim());
  SETTINGS.forEach(remember);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  for (const id of SETTINGS) {
    $(id).addEventListener("change", () => {
      remember(id);
      if (id !== "area") reconnect(); // a connection is one device for its life; a new area goes with the next start
    });
  }
}

function token() {
  return $("token").value.trim();
}

function audioContext() {
  if (!context) context = new AudioContext();
  context.resume();
  return context;
}

// -- the connection -----------------------------------------------------------------------------------

function reconnect() {
  streamGone(null); // the old connection's stream went with it
  hub.reset();
  hub.selfDevice = $("device").value.trim();
  link.open(token());
  loadPlugins($("plugin-list"), token(), runExample);
}

function showLink(state, detail) {
  const text = {
    connecting: "connecting…",
    open: `connected${location.protocol === "https:" ? " (TLS)" : ""}`,
    unauthorized: "the server needs its token: enter it under Settings",
    closed: `disconnected; retrying in ${Math.round((detail?.retryMs || 0) / 1000)} s`,
  }[state];
  $("link").textContent = text;
  $("link").dataset.state = state;
  if (state === "unauthorized") $("token").closest("details").open = true;
  if (state === "closed" || state === "unauthorized") {
    streamGone(state === "unauthorized" ? "the server refused the token" : "the connection dropped");
    hub.reset();
  }
}

function onEvent(event) {
  if (event.type === "hub") {
    hub.push(event);
    return;
  }
  if (event.type === "device_status") {
    hub.status(event);
    return;
  }
  if (event.type === "watching") {
    hub.watching(event);
    return;
  }
  window.assistantEvents.push(event);
  if (window.assistantEvents.length > MAX_KEPT_EVENTS) window.assistantEvents.shift();
  log(event);
  for (const w of [...waiters]) {
    if (w.match(event)) settle(w, () => w.resolve(event));
    else if (w.fail?.(event)) settle(w, () => w.reject(new Error(event.message)));
  }
  const turn = turns.push(event);
  show(event, turn);
  if (turn) renderTurns();
}

function settle(waiter, action) {
  waiters = waiters.filter((w) => w !== waiter);
  action();
}

function waitFor(match, fail, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const waiter = { match, fail, resolve, reject };
    waiters.push(waiter);
    setTimeout(() => waiters.includes(waiter) && settle(waiter, () => reject(new Error("the server did not answer in time"))), timeoutMs);
  });
}

// -- the page's own stream ----------------------------------------------------------------------------

async function openStream(kind) {
  if (!(await link.opened(CONNECT_WAIT_MS))) throw new Error("not connected to the server: is it running, and is the token right?");
  if (stream) await closeStream();
  const start = { type: "start", wake: $("wake").checked, device: $("device").value.trim() || undefined, area: $("area").value.trim() || undefined };
  let mic = null;
  setStatus("starting", "starting");
  if (kind === "mic") {
    mic = new Microphone(audioContext(), document.querySelector("input[name=mode]:checked").value);
    try {
      Object.assign(start, await mic.open(), { wake_scores: true });
    } catch (err) {
      mic.release();
      throw err;
    }
  } else {
    Object.assign(start, { encoding: "pcm_s16le", rate: 16000 });
  }
  stream = { kind, mic, session: null };
  const ready = waitFor((e) => e.type === "ready", (e) => e.type === "error" && START_ERRORS.has(e.code));
  link.send(start);
  try {
    const event = await ready;
    stream.session = event.session;
  } catch (err) {
    mic?.release();
    stream = null;
    throw err;
  }
  if (mic) {
    graph.reset();
    await mic.start((data) => link.send(data));
    setStatus(`listening (${mic.description})`, "listening");
    meter(mic);
  } else {
    setStatus("typing (microphone off)", "typing");
  }
  $("toggle-label").textContent = kind === "mic" ? "Stop" : "Start";
  $("toggle").setAttribute("aria-pressed", String(kind === "mic"));
}

async function closeStream() {
  const current = stream;
  if (!current) return;
  setStatus("finishing", "finishing");
  const done = waitFor((e) => e.type === "done", null, STOP_TIMEOUT_MS);
  if (current.mic) current.mic.stop(() => link.send({ type: "stop" }));
  else link.send({ type: "stop" });
  try {
    await done;
  } finally {
    if (stream === current) streamGone(null);
  }
}

// The stream ended (done, or the connection went away): back to idle.
function streamGone(problem) {
  if (!stream) return;
  stream.mic?.release();
  stream = null;
  player.reset();
  $("toggle-label").textContent = "Start";
  $("toggle").setAttribute("aria-pressed", "false");
  for (const w of waiters) w.reject(new Error(problem || "the stream ended"));
  waiters = [];
  setStatus(problem ? `stopped: ${problem}` : "stopped", problem ? "error" : "idle");
  if (problem) showProblem(problem);
}

async function toggle() {
  showProblem("");
  audioContext(); // within the click, before anything is awaited
  try {
    if (stream?.kind === "mic") await closeStream();
    else await openStream("mic");
  } catch (err) {
    showProblem(err.message);
    setStatus("error", "error");
  }
}

async function typed(text) {
  showProblem("");
  audioContext(); // within the click: the reply may be spoken
  try {
    if (!stream) await openStream("text");
    if (!link.send({ type: "text", text })) throw new Error("not connected to the server");
  } catch (err) {
    showProblem(err.message);
  }
}

function runExample(example) {
  $("say").value = example;
  typed(example);
}

// -- showing events -----------------------------------------------------------------------------------

function setStatus(text, state) {
  $("status").textContent = text;
  $("status").dataset.state = state;
}

function showProblem(text) {
  $("problem").textContent = text;
}

function show(event, turn) {
  switch (event.type) {
    case "state":
      $("state").textContent = event.state;
      $("state").dataset.state = event.state;
      if (event.state === "listening") $("wake-badge").hidden = true;
      break;
    case "wake":
      $("wake-badge").hidden = false;
      $("wake-badge").textContent = `${event.model.replaceAll("_", " ")} ${event.score.toFixed(2)}`;
      clearTurn();
      break;
    case "wake_scores":
      graph.push(event);
      break;
    case "partial":
      $("partial").textContent = event.text;
      break;
    case "transcript":
      if (turn?.typed) clearTurn();
      $("partial").textContent = "";
      $("transcript").textContent = event.text;
      break;
    case "intent":
      $("intent").textContent = `${event.name} (${Math.round(event.confidence * 100)}%)`;
      fillSlots(event.slots || {});
      break;
    case "no_intent":
      $("intent").textContent = "(not understood)";
      fillSlots({});
      break;
    case "reply":
      $("reply").textContent = event.text;
      break;
    case "reply_audio":
      player.header(event);
      break;
    case "reply_audio_stop":
      player.stop(event.id);
      break;
    case "overload":
      showProblem(`the server fell behind: ${event.dropped_frames} frames dropped`);
      break;
    case "error":
      showProblem(`${event.code}: ${event.message}`);
      break;
    case "done":
      streamGone(null);
      break;
  }
}

function clearTurn() {
  for (const id of ["partial", "transcript", "intent", "reply"]) $(id).textContent = "";
  fillSlots({});
}

function fillSlots(slots) {
  const body = $("slots").tBodies[0];
  body.replaceChildren(
    ...Object.entries(slots).map(([name, value]) => {
      const row = document.createElement("tr");
      row.dataset.slot = name;
      for (const text of [name, typeof value === "string" ? value : JSON.stringify(value)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

function renderTurns() {
  const shown = turns.turns.filter((t) => t.said || t.events.reply);
  const scale = scaleOf(shown);
  const focused = $("turns").contains(document.activeElement) ? document.activeElement.closest("li")?.dataset.turn : undefined;
  $("no-turns").hidden = shown.length > 0;
  $("turns").replaceChildren(...shown.reverse().map((t) => renderTurn(t, scale)));
  if (focused) $("turns").querySelector(`li[data-turn="${focused}"] summary`)?.focus(); // a new event keeps the keyboard's place
  const ticks = shown.length ? [0, scale / 2, scale].map((v) => (v ? ms(v) : "0")) : [];
  $("scale").replaceChildren(...ticks.map((text) => Object.assign(document.createElement("span"), { textContent: text })));
}

function log(event) {
  const { type, t, ...rest } = event;
  const item = document.createElement("li");
  item.dataset.type = type;
  item.textContent = `${t.toFixed(2)} s  ${type}  ${JSON.stringify(rest)}`;
  const list = $("events");
  list.prepend(item);
  while (list.children.length > MAX_LOG) list.lastChild.remove();
}

// The input level, drawn every frame while the microphone is on.
function meter(mic) {
  const level = $("level");
  delete $("live").dataset.off;
  let spoken = 0;
  const frame = (now) => {
    if (stream?.mic !== mic) {
      $("live").dataset.off = "";
      level.style.setProperty("--level", "0");
      level.setAttribute("aria-valuenow", String(SILENT_DB));
      level.setAttribute("aria-valuetext", "off");
      $("level-db").textContent = "– dB";
      return;
    }
    const db = mic.levelDb();
    level.style.setProperty("--level", ((db - SILENT_DB) / -SILENT_DB).toFixed(3));
    level.dataset.peak = Math.max(Number(level.dataset.peak), db).toFixed(1);
    if (now - spoken > LEVEL_ARIA_MS) {
      spoken = now;
      level.setAttribute("aria-valuenow", db.toFixed(0));
      level.setAttribute("aria-valuetext", `${db.toFixed(0)} dB`);
      $("level-db").textContent = `${db.toFixed(0)} dB`;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

window.addEventListener("DOMContentLoaded", () => {
  loadSettings();
  renderLegend($("legend"));
  $("toggle").addEventListener("click", toggle);
  $("type-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("say").value.trim();
    if (!text) return;
    $("say").value = "";
    typed(text);
  });
  reconnect();
});
