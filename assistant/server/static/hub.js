// The devices on this server, built from `hub` events alone: each wraps one stream's event with the
// stream's session and device label. A device is online while one of its streams is open; its state
// is its streams' latest `state`; its recent turns are read off its events like the page's own.

import { element, renderTurn, scaleOf, TurnLog } from "./turns.js";

const KEEP_TURNS = 5;
const RENDER_DELAY_MS = 50;

export class HubView {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
    this.devices = new Map(); // label → device
    this.offset = null; // this page's clock minus the hub's, in seconds
    this.selfSession = null;
    this.timer = null;
  }

  // The connection was (re)opened: the hub replays what it keeps.
  reset() {
    this.devices.clear();
    this.offset = null;
    this.schedule();
  }

  push(hubEvent) {
    const { device: label, area, session, event } = hubEvent;
    let device = this.devices.get(label);
    if (!device) {
      device = { label, area: null, sessions: new Set(), state: "offline", turns: new TurnLog(KEEP_TURNS), lastT: 0 };
      this.devices.set(label, device);
    }
    device.area = area ?? device.area;
    device.lastT = hubEvent.t;
    if (event.type === "ready") {
      device.sessions.add(session);
      device.state = "listening";
    } else if (event.type === "state") {
      device.state = event.state;
    } else if (event.type === "done") {
      device.sessions.delete(session);
      if (device.sessions.size === 0) device.state = "offline";
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
    const devices = [...this.devices.values()].sort((a, b) => (b.sessions.size > 0) - (a.sessions.size > 0) || b.lastT - a.lastT);
    this.empty.hidden = devices.length > 0;
    this.list.replaceChildren(...devices.map((d) => this.renderDevice(d)));
  }

  renderDevice(device) {
    const online = device.sessions.size > 0;
    const self = this.selfSession !== null && device.sessions.has(this.selfSession);
    const seen = this.offset !== null ? new Date((device.lastT + this.offset) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
    const turns = device.turns.turns.filter((t) => t.said || t.events.reply);
    const scale = scaleOf(turns);
    const streams = device.sessions.size > 1 ? `${device.sessions.size} streams · ` : "";
    return element(
      "li",
      { className: "device", dataset: { device: device.label, state: online ? device.state : "offline", ...(self ? { self: "" } : {}) } },
      element(
        "div",
        { className: "device-head" },
        element("span", { className: "dot", "aria-hidden": "true" }),
        element("strong", { className: "device-name" }, device.label),
        device.area ? element("span", { className: "area" }, device.area) : null,
        self ? element("span", { className: "self" }, "this page") : null,
        element("span", { className: "badge state" }, online ? device.state : "offline"),
      ),
      element("p", { className: "seen" }, `${streams}${online ? "active" : "last seen"} ${seen}`),
      turns.length
        ? element("ol", { className: "device-turns", "aria-label": `recent turns of ${device.label}` }, ...turns.reverse().map((t) => renderTurn(t, scale, { compact: true })))
        : element("p", { className: "quiet" }, "no turns yet"),
    );
  }
}
