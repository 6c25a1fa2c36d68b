// The assistant in a browser tab: microphone → /v1/stream, events → the page, reply audio → the speakers.
//
// Two capture modes: an AudioWorklet that resamples to 16 kHz int16 here (small,
// exact PCM; see capture-worklet.js), or MediaRecorder chunks of webm/opus (or
// ogg/opus) that the server decodes (less bandwidth, what phones do well).

const $ = (id) => document.getElementById(id);
const MAX_LOG = 200;
const RECORDER_TYPES = [
  ["audio/webm;codecs=opus", "webm/opus"],
  ["audio/ogg;codecs=opus", "ogg/opus"],
];

window.assistantEvents = []; // every event received, for people poking in the console (and for tests)

let session = null;

function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/v1/stream`;
}

function setStatus(text, state) {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = state;
}

function showProblem(text) {
  $("problem").textContent = text;
}

class Session {
  constructor(mode) {
    this.mode = mode;
    this.ws = null;
    this.media = null;
    this.context = null;
    this.node = null;
    this.recorder = null;
    this.reply = null; // the reply_audio header whose bytes are arriving
    this.playing = new Map(); // reply id → AudioBufferSourceNode
    this.playEnd = 0;
  }

  async start() {
    setStatus("starting", "starting");
    this.media = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: true },
    });
    this.context = new AudioContext();
    await this.context.resume();
    const start = { type: "start", wake: $("wake").checked };
    const token = $("token").value.trim();
    if (token) start.token = token;
    if (this.mode === "recorder") {
      const found = RECORDER_TYPES.find(([mime]) => MediaRecorder.isTypeSupported(mime));
      if (!found) throw new Error("this browser's MediaRecorder makes neither webm/opus nor ogg/opus");
      this.recorderType = found[0];
      start.encoding = found[1];
    } else {
      start.encoding = "pcm_s16le";
      start.rate = 16000;
    }
    await this.connect(start);
  }

  connect(start) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(streamUrl());
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.onopen = () => ws.send(JSON.stringify(start));
      ws.onmessage = (message) => {
        if (typeof message.data !== "string") {
          this.replyBytes(message.data);
          return;
        }
        const event = JSON.parse(message.data);
        if (event.type === "ready") {
          this.capture().then(resolve, reject);
        } else if (event.type === "error" && !this.node && !this.recorder) {
          reject(new Error(event.message));
        }
        this.show(event);
      };
      ws.onclose = (close) => {
        const why = close.code === 1000 ? "stopped" : `closed (${close.code}${close.reason ? ": " + close.reason : ""})`;
        setStatus(why, close.code === 1000 ? "idle" : "error");
        if (close.code !== 1000) showProblem(why);
        reject(new Error(why));
        this.release();
        if (session === this) {
          session = null;
          $("toggle").textContent = "Start";
        }
      };
    });
  }

  async capture() {
    const input = this.context.createMediaStreamSource(this.media);
    if (this.mode === "recorder") {
      this.recorder = new MediaRecorder(this.media, { mimeType: this.recorderType, audioBitsPerSecond: 32000 });
      // send the Blob itself: sends stay in order, unlike awaiting each blob's arrayBuffer()
      this.recorder.ondataavailable = (e) => e.data.size && this.send(e.data);
      this.recorder.onstop = () => this.send(JSON.stringify({ type: "stop" }));
      this.recorder.start(100);
    } else {
      await this.context.audioWorklet.addModule("/static/capture-worklet.js");
      this.node = new AudioWorkletNode(this.context, "capture-16k", { numberOfInputs: 1, numberOfOutputs: 0 });
      this.node.port.onmessage = (e) => this.send(e.data);
      input.connect(this.node);
    }
    setStatus(`listening (${this.mode === "recorder" ? this.recorderType : "16 kHz PCM"})`, "listening");
  }

  send(data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  stop() {
    if (this.node) {
      // blocks the worklet already posted must not follow "stop": the server would call them audio before start
      this.node.port.onmessage = null;
      this.node.disconnect();
    }
    if (this.recorder && this.recorder.state !== "inactive") {
      this.recorder.stop(); // its onstop sends "stop" after the last chunk
    } else {
      this.send(JSON.stringify({ type: "stop" }));
    }
    this.media?.getTracks().forEach((t) => t.stop());
    setStatus("finishing", "finishing");
  }

  release() {
    this.media?.getTracks().forEach((t) => t.stop());
    this.node?.disconnect();
  }

  show(event) {
    window.assistantEvents.push(event);
    log(event);
    switch (event.type) {
      case "state":
        $("state").textContent = event.state;
        if (event.state === "listening") $("wake-badge").hidden = true;
        break;
      case "wake":
        $("wake-badge").hidden = false;
        $("wake-badge").textContent = `${event.model} ${event.score.toFixed(2)}`;
        for (const id of ["partial", "transcript", "intent", "reply"]) $(id).textContent = "";
        fillSlots({});
        break;
      case "partial":
        $("partial").textContent = event.text;
        break;
      case "transcript":
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
        this.reply = { header: event, parts: [], received: 0 };
        break;
      case "reply_audio_stop":
        this.playing.get(event.id)?.stop();
        break;
      case "overload":
        showProblem(`the server fell behind: ${event.dropped_frames} frames dropped`);
        break;
      case "error":
        showProblem(`${event.code}: ${event.message}`);
        break;
      case "done":
        setStatus("stopped", "idle");
        this.ws.close(1000);
        break;
    }
  }

  replyBytes(buffer) {
    if (!this.reply) return;
    this.reply.parts.push(new Int16Array(buffer));
    this.reply.received += buffer.byteLength;
    if (this.reply.received < this.reply.header.bytes) return;
    const { header, parts } = this.reply;
    this.reply = null;
    const audio = this.context.createBuffer(1, header.samples, header.rate);
    const samples = audio.getChannelData(0);
    let offset = 0;
    for (const part of parts) {
      for (let i = 0; i < part.length && offset < samples.length; i++) samples[offset++] = part[i] / 32768;
    }
    const source = this.context.createBufferSource();
    source.buffer = audio;
    source.connect(this.context.destination);
    const at = Math.max(this.context.currentTime, this.playEnd); // replies play one after another
    source.start(at);
    this.playEnd = at + audio.duration;
    this.playing.set(header.id, source);
    $("reply").dataset.playing = "true"; // the page shows a speaker while the reply is heard
    source.onended = () => {
      this.playing.delete(header.id);
      if (this.playing.size === 0) delete $("reply").dataset.playing;
    };
  }
}

function fillSlots(slots) {
  const body = $("slots").tBodies[0];
  body.replaceChildren(
    ...Object.entries(slots).map(([name, value]) => {
      const row = document.createElement("tr");
      row.dataset.slot = name;
      for (const text of [name, JSON.stringify(value)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
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

async function toggle() {
  if (session) {
    session.stop();
    return;
  }
  showProblem("");
  const mode = document.querySelector("input[name=mode]:checked").value;
  session = new Session(mode);
  $("toggle").textContent = "Stop";
  localStorage.setItem("assistant.token", $("token").value);
  try {
    await session.start();
  } catch (err) {
    showProblem(err.message);
    setStatus("error", "error");
    session?.release();
    session = null;
    $("toggle").textContent = "Start";
  }
}

window.addEventListener("DOMContentLoaded", () => {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get("token"); // a fragment never reaches the server's logs
  $("token").value = fromUrl || localStorage.getItem("assistant.token") || "";
  $("toggle").addEventListener("click", toggle);
});
