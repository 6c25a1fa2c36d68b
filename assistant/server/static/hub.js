// The devices on this server, built from the `watch` feed alone:
// - `device_status`: what the server knows of a device (area, state, open streams, running timers,
//   ringing alarms), when watching starts and whenever that changes; `forgotten` drops it;
// - `hub`: one of its streams' events (with the stream's session), read off into turns like the
//   page's own, and moving its state (listening, capturing, ...) between two statuses.
// Timers count down on the page from the `left` of their status; the buttons send `cancel`.

import { element, renderTurn, scaleOf, TurnLog } from "./turns.js";

const KEEP_TURNS = 5;
const RENDER_DELAY_MS = 50;
const TICK_MS = 1000;

export class HubView {
  // onCancel({device, timer} | {device, alarm: true}): a cancel button was pressed.
  constructor(list, empty, onCancel) {
    this.list = list;
    this.empty = empty;
    this.onCancel = onCancel;
    this.devices = new Map(); // id → device
    this.offset = null; // this page's clock minus the hub's, in seconds
    this.selfDevice = null; // the id this page streams as
    this.timer = null;
    this.ticker = null;
    // No redraw while a pointer is pressed on the list: a press whose down and up fall either side of one
    // (the button replaced in between) clicks nothing, and a cancel would be lost. Drawn when it ends.
    this.pressed = false;
    list.addEventListener("pointerdown", () => (this.pressed = true));
    for (const type of ["pointerup", "pointercancel"]) window.addEventListener(type, () => this.pressed && ((this.pressed = false), this.schedule()));
  }

  // The connection was (re)opened: the hub replays what it keeps.
  reset() {
    this.devices.clear();
    this.offset = null;
    this.schedule();
  }

  device(id) {
    let device = this.devices.get(id);
    if (!device) {
      device = { id, area: null, state: "offline", streams: new Set(), timers: [], alarms: [], turns: new TurnLog(KEEP_TURNS), lastT: 0 };
      this.devices.set(id, device);
    }
    return device;
  }

  status(event) {
    this.offset = Date.now() / 1000 - event.t;
    if (event.forgotten) {
      this.devices.delete(event.device);
    } else {
      const device = this.device(event.device);
      Object.assign(device, { area: event.area, state: event.state, streams: new Set(event.streams), alarms: event.alarms });
      device.timers = event.timers.map((timer) => ({ ...timer, until: event.t + timer.left }));
      device.lastT = Math.max(device.lastT, event.t);
    }
    this.schedule();
  }

  push(hubEvent) {
    const { device: id, area, session, event } = hubEvent;
    const device = this.device(id);
    device.area = area ?? device.area;
    device.lastT = hubEvent.t;
    if (event.type === "ready") {
      device.streams.add(session);
      device.state = "listening";
    } else if (event.type === "state" && device.streams.has(session)) {
      device.state = event.state;
    } else if (event.type === "done") {
      device.streams.delete(session); // its status follows with the state it is left in
    }
    device.turns.push(event);
    this.offset = Date.now() / 1000 - hubEvent.t;
    this.schedule();
  }

  watching(event) {
    this.offset = Date.now() / 1000 - event.t;
    this.schedule();
  }

  schedule() {
    if (this.timer === null) this.timer = setTimeout(() => this.render(), RENDER_DELAY_MS);
  }

  render() {
    this.timer = null;
    if (this.pressed) return;
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.key : undefined;
    const devices = [...this.devices.values()].sort((a, b) => (b.state !== "offline") - (a.state !== "offline") || b.lastT - a.lastT);
    this.empty.hidden = devices.length > 0;
    this.list.replaceChildren(...devices.map((d) => this.renderDevice(d)));
    if (focused) this.list.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus(); // a re-render keeps the keyboard's place
    this.tick();
    const counting = devices.some((d) => d.timers.length);
    if (counting && this.ticker === null) this.ticker = setInterval(() => this.tick(), TICK_MS);
    if (!counting && this.ticker !== null) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  // The timers' countdowns, in place (a whole render each second would steal the keyboard's focus).
  tick() {
    if (this.offset === null) return;
    const hubNow = Date.now() / 1000 - this.offset;
    for (const left of this.list.querySelectorAll("[data-until]")) left.textContent = clock(Number(left.dataset.until) - hubNow);
  }

  renderDevice(device) {
    const online = device.state !== "offline";
    const self = device.id === this.selfDevice;
    const seen = this.offset !== null ? new Date((device.lastT + this.offset) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
    const turns = device.turns.turns.filter((t) => t.said || t.events.reply);
    const scale = scaleOf(turns);
    const streams = device.streams.size > 1 ? `${device.streams.size} streams · ` : "";
    const name = device.area ? `${device.id} (${device.area})` : device.id;
    const button = (label, key, what, message) =>
      element("button", { type: "button", className: "cancel", dataset: { key }, "aria-label": `${label} ${what} on ${name}`, onclick: () => this.onCancel({ device: device.id, ...message }) }, label);
    const alarms = device.alarms.map((text, i) =>
      element("li", { className: "alarm", dataset: { alarm: "" } }, bell(), element("span", { className: "what" }, text), i === 0 ? button("Stop", `${device.id}/alarm`, "the alarm", { alarm: true }) : null),
    );
    const timers = device.timers.map((timer) =>
      element(
        "li",
        { className: "timer", dataset: { timer: timer.id } },
        element("span", { className: "what" }, timer.label),
        element("span", { className: "left num", dataset: { until: timer.until }, role: "timer", "aria-label": `time left on the ${timer.label}` }),
        button("Cancel", `${device.id}/timer/${timer.id}`, `the ${timer.label}`, { timer: timer.id }),
      ),
    );
    return element(
      "li",
      { className: "device", dataset: { device: device.id, state: device.state, ...(self ? { self: "" } : {}), ...(device.alarms.length ? { ringing: "" } : {}) } },
      element(
        "div",
        { className: "device-head" },
        element("span", { className: "dot", "aria-hidden": "true" }),
        element("strong", { className: "device-name" }, device.id),
        device.area ? element("span", { className: "area" }, device.area) : null,
        self ? element("span", { className: "self" }, "this page") : null,
        element("span", { className: "badge state" }, device.state),
      ),
      element("p", { className: "seen" }, `${streams}${online ? "active" : "last seen"} ${seen}`),
      alarms.length || timers.length ? element("ul", { className: "device-timers", "aria-label": `alarms and timers of ${device.id}` }, ...alarms, ...timers) : null,
      turns.length
        ? element("ol", { className: "device-turns", "aria-label": `recent turns of ${device.id}` }, ...turns.reverse().map((t) => renderTurn(t, scale, { compact: true })))
        : element("p", { className: "quiet" }, "no turns yet"),
    );
  }
}

// A bell drawn in SVG (no emoji font needed), beside a ringing alarm.
function bell() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "bell");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z");
  svg.append(path);
  return svg;
}

// 754.2 → "12:34", 3725 → "1:02:05"
function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}
