// The page's one WebSocket to /v1/stream, for as long as the page is open.
//
// It first sends `watch` (with the token, when there is one: a browser cannot set an
// Authorization header on a WebSocket), so it receives every stream's turn events as `hub`
// events; the page's own stream (microphone or typed) then runs on the same connection.
// It reconnects with backoff when the server goes away, and waits for a new token after a
// refused one.

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10000;
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TRY_LATER = 4429;

export function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/v1/stream`;
}

export class Link {
  // onEvent(event), onBinary(ArrayBuffer), onState(state, detail): state is one of
  // "connecting", "open", "closed" (detail: {code, reason, retryMs}), "unauthorized".
  constructor({ onEvent, onBinary, onState }) {
    this.onEvent = onEvent;
    this.onBinary = onBinary;
    this.onState = onState;
    this.ws = null;
    this.token = "";
    this.delay = RETRY_MIN_MS;
    this.timer = null;
    this.watching = false;
    this.waiting = []; // resolvers of opened()
  }

  open(token) {
    this.token = token;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000);
      this.ws = null;
      this.watching = false;
    }
    this.delay = RETRY_MIN_MS;
    this.connect();
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // Resolves once the connection is open and watching (at once if it is), false after `timeoutMs`.
  opened(timeoutMs) {
    if (this.watching) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      setTimeout(() => resolve(false), timeoutMs);
    });
  }

  connect() {
    this.onState("connecting");
    const ws = new WebSocket(streamUrl());
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      const watch = { type: "watch" };
      if (this.token) watch.token = this.token;
      ws.send(JSON.stringify(watch));
    };
    ws.onmessage = (message) => {
      if (typeof message.data !== "string") {
        this.onBinary(message.data);
        return;
      }
      const event = JSON.parse(message.data);
      if (event.type === "watching") {
        this.delay = RETRY_MIN_MS;
        this.watching = true;
        this.onState("open");
        this.waiting.splice(0).forEach((resolve) => resolve(true));
      }
      this.onEvent(event);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.watching = false;
      if (close.code === CLOSE_UNAUTHORIZED) {
        this.onState("unauthorized", { code: close.code, reason: close.reason });
        return; // a new token reopens it
      }
      const told = close.code === CLOSE_TRY_LATER ? Number((close.reason.match(/(\d+) s/) || [])[1]) * 1000 : 0;
      const retryMs = Math.max(told || 0, this.delay);
      this.delay = Math.min(this.delay * 2, RETRY_MAX_MS);
      this.onState("closed", { code: close.code, reason: close.reason, retryMs });
      this.timer = setTimeout(() => this.connect(), retryMs);
    };
  }

  send(message) {
    if (!this.isOpen) return false;
    this.ws.send(typeof message === "string" || message instanceof Blob || message instanceof ArrayBuffer ? message : JSON.stringify(message));
    return true;
  }
}
