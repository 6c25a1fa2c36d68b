// Turns, read off the event stream, and drawn as timelines.
//
// A turn is the events of one command, from the wake word (or the start of speech, or a typed
// transcript) to the first sound of the reply. Each stage is the time between two of its events,
// as in `assistant run`'s latency summary (assistant/latency.py), with the wait for the end of
// speech split out of `speech_end` (its `endpoint_delay`) and the reply split at `reply_audio`
// (synthesis of the first sentence, then getting it to the speaker).

const first = (...kinds) => (turn) => kinds.map((k) => turn.events[k]?.t).find((t) => t !== undefined);

// When the user stopped speaking: the endpointer waited `endpoint_delay` of silence before saying so.
function speechEnded(turn) {
  const end = turn.events.speech_end;
  if (!end) return undefined;
  const start = turn.events.speech_start?.t ?? end.t;
  return Math.max(start, end.t - (end.endpoint_delay || 0));
}

export const STAGES = [
  { id: "wake", label: "wake", from: first("wake"), to: first("speech_start") },
  { id: "speech", label: "speech", from: first("speech_start"), to: speechEnded },
  { id: "endpoint", label: "endpoint silence", from: speechEnded, to: first("speech_end") },
  { id: "recognition", label: "recognition", from: first("speech_end"), to: first("transcript") },
  { id: "intent", label: "intent", from: first("transcript"), to: first("intent", "no_intent") },
  { id: "handler", label: "handler", from: first("intent", "no_intent"), to: first("reply") },
  { id: "synthesis", label: "reply synthesis", from: first("reply"), to: first("reply_audio") },
  { id: "first-audio", label: "first audio", from: first("reply_audio"), to: first("speak_start") },
];

// Events that can open a turn, in the order a turn has them: one of them arriving when the open
// turn already has it, or a later one, begins the next turn.
const OPENERS = ["wake", "speech_start", "transcript", "reply"];
const ORDER = ["wake", "speech_start", "speech_end", "transcript", "intent", "no_intent", "reply", "reply_audio", "speak_start"];

let turnIds = 0;

export class Turn {
  constructor() {
    this.id = ++turnIds;
    this.events = {}; // kind → the first event of that kind
    this.order = -1; // the latest stage kind seen (index in ORDER)
    this.noSpeech = false;
    this.closed = false; // a later turn began
    this.error = null;
    this.open = false; // its details are shown
  }

  add(event) {
    const kind = event.type === "no_intent" ? "no_intent" : event.type;
    if (kind === "no_speech") this.noSpeech = true;
    if (kind === "error" && !this.error) this.error = event;
    const index = ORDER.indexOf(kind);
    if (index < 0 || this.events[kind]) return;
    this.events[kind] = event;
    this.order = Math.max(this.order, index);
  }

  get typed() {
    return !this.events.wake && !this.events.speech_start && Boolean(this.events.transcript);
  }

  get announcement() {
    return !this.events.transcript && !this.events.speech_start && !this.events.wake && Boolean(this.events.reply);
  }

  get complete() {
    return Boolean(this.events.speak_start) || this.noSpeech || this.closed;
  }

  // [{stage, ms}] for the stages whose two ends are known
  stages() {
    const out = [];
    for (const stage of STAGES) {
      const a = stage.from(this);
      const b = stage.to(this);
      if (a !== undefined && b !== undefined) out.push({ stage, ms: Math.max(0, (b - a) * 1000) });
    }
    return out;
  }

  // What the user waited: from the end of speech (or the typed command) to the first reply audio,
  // or to the reply text when no audio comes.
  waitMs() {
    const e = this.events;
    const end = e.speak_start ?? e.reply;
    if (!end) return undefined;
    if (e.speech_end) return (end.t - e.speech_end.t + (e.speech_end.endpoint_delay || 0)) * 1000;
    if (e.transcript) return (end.t - e.transcript.t) * 1000;
    return undefined;
  }

  // What was said, or what stands in for it ({text, quoted}); null before anything happened.
  get said() {
    const transcript = this.events.transcript;
    if (transcript) return transcript.text ? { text: transcript.text, quoted: true } : { text: "nothing recognised", quoted: false };
    if (this.noSpeech) return { text: "no speech after the wake word", quoted: false };
    if (this.announcement) return { text: "announcement", quoted: false };
    if (this.events.wake || this.events.speech_start) return { text: this.complete ? "not heard" : "listening…", quoted: false };
    return null;
  }
}

// Splits one stream's events into turns; keeps the last `keep`.
export class TurnLog {
  constructor(keep) {
    this.keep = keep;
    this.turns = [];
  }

  get current() {
    return this.turns.at(-1);
  }

  // Returns the turn the event went to, or null when it belongs to none.
  push(event) {
    const kind = event.type;
    let turn = this.current;
    if (OPENERS.includes(kind)) {
      const opensNew = !turn || kind === "wake" || turn.events[kind] || turn.order >= ORDER.indexOf(kind) || turn.complete;
      if (opensNew) {
        if (turn) turn.closed = true;
        turn = new Turn();
        this.turns.push(turn);
        if (this.turns.length > this.keep) this.turns.shift();
      }
    }
    if (!turn) return null;
    if (kind === "no_speech" || kind === "error" || ORDER.includes(kind)) {
      turn.add(event);
      return turn;
    }
    return null;
  }
}

export function ms(value) {
  return value >= 10000 ? `${(value / 1000).toFixed(1)} s` : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
export { element };

// The stage legend: one swatch per stage.
export function renderLegend(list) {
  list.replaceChildren(...STAGES.map((s) => element("li", { dataset: { stage: s.id } }, element("span", { className: "swatch", "aria-hidden": "true" }), s.label)));
}

// One turn as a bar of its stages (widths on a shared scale of `scaleMs`), with its numbers.
export function renderTurn(turn, scaleMs, { compact = false } = {}) {
  const stages = turn.stages();
  const wait = turn.waitMs();
  const total = stages.reduce((sum, s) => sum + s.ms, 0);
  const bar = element(
    "span",
    { className: "bar", "aria-hidden": "true" },
    ...stages.map(({ stage, ms: value }) =>
      element("span", { className: "seg", dataset: { stage: stage.id, ms: Math.round(value) }, title: `${stage.label}: ${ms(value)}`, style: { width: `${(100 * value) / Math.max(scaleMs, 1)}%` } }),
    ),
  );
  const reply = turn.events.reply?.text;
  const intent = turn.events.intent?.name ?? (turn.events.no_intent ? "not understood" : null);
  const text = element(
    "span",
    { className: "turn-text" },
    turn.typed ? element("span", { className: "typed", title: "typed", "aria-label": "typed:" }, "⌨ ") : null,
    turn.said?.quoted ? element("q", {}, turn.said.text) : element("em", { className: "quiet" }, turn.said?.text ?? ""),
    intent ? element("span", { className: "turn-intent" }, ` ${intent}`) : null,
    reply ? element("span", { className: "turn-reply" }, ` → ${reply}`) : null,
  );
  const waited = element("span", { className: "turn-wait num", title: turn.typed ? "typed → first reply audio" : "end of speech → first reply audio" }, wait !== undefined ? ms(wait) : turn.complete ? "–" : "…");
  const li = element("li", {
    className: "turn",
    dataset: { turn: turn.id, stages: stages.map((s) => s.stage.id).join(" "), ...(turn.complete ? { complete: "" } : {}), ...(turn.typed ? { typed: "" } : {}) },
  });
  if (compact) {
    li.append(text, waited, bar);
    return li;
  }
  const table = element(
    "table",
    { className: "stage-table" },
    element("caption", { className: "visually-hidden" }, "Time per stage"),
    element("tbody", {}, ...stages.map(({ stage, ms: value }) => element("tr", { dataset: { stage: stage.id } }, element("th", { scope: "row" }, element("span", { className: "swatch", "aria-hidden": "true" }), stage.label), element("td", { className: "num" }, ms(value))))),
    element(
      "tfoot",
      {},
      wait !== undefined ? element("tr", {}, element("th", { scope: "row" }, turn.typed ? "typed → first audio" : "end of speech → first audio"), element("td", { className: "num" }, ms(wait))) : null,
      element("tr", {}, element("th", { scope: "row" }, "whole turn"), element("td", { className: "num" }, ms(total))),
    ),
  );
  const details = element("details", { open: turn.open }, element("summary", {}, text, waited, bar), table);
  details.addEventListener("toggle", () => (turn.open = details.open));
  li.append(details);
  return li;
}

// The scale shared by a list of turns: the longest whole turn, so bars compare.
export function scaleOf(turns) {
  return Math.max(1, ...turns.map((t) => t.stages().reduce((sum, s) => sum + s.ms, 0)));
}
