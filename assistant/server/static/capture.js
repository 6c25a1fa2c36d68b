// The microphone: captured as 16 kHz int16 PCM by an AudioWorklet (see capture-worklet.js), or as
// MediaRecorder chunks of webm/opus (or ogg/opus) that the server decodes; and its level, measured
// on the same signal with an AnalyserNode.

const RECORDER_TYPES = [
  ["audio/webm;codecs=opus", "webm/opus"],
  ["audio/ogg;codecs=opus", "ogg/opus"],
];
export const SILENT_DB = -60;

export class Microphone {
  constructor(context, mode) {
    this.context = context;
    this.mode = mode;
    this.media = null;
    this.input = null;
    this.analyser = null;
    this.node = null;
    this.recorder = null;
    this.samples = null;
  }

  // Opens the device; returns the `start` fields that describe what will be sent.
  async open() {
    this.media = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: true },
    });
    this.input = this.context.createMediaStreamSource(this.media);
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 2048;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.input.connect(this.analyser);
    if (this.mode === "recorder") {
      const found = RECORDER_TYPES.find(([mime]) => MediaRecorder.isTypeSupported(mime));
      if (!found) throw new Error("this browser's MediaRecorder makes neither webm/opus nor ogg/opus");
      this.recorderType = found[0];
      return { encoding: found[1] };
    }
    return { encoding: "pcm_s16le", rate: 16000 };
  }

  get description() {
    return this.mode === "recorder" ? this.recorderType : "16 kHz PCM";
  }

  // Starts sending; `send` takes an ArrayBuffer or a Blob.
  async start(send) {
    if (this.mode === "recorder") {
      this.recorder = new MediaRecorder(this.media, { mimeType: this.recorderType, audioBitsPerSecond: 32000 });
      // send the Blob itself: sends stay in order, unlike awaiting each blob's arrayBuffer()
      this.recorder.ondataavailable = (e) => e.data.size && send(e.data);
      this.recorder.start(100);
      return;
    }
    await this.context.audioWorklet.addModule("/static/capture-worklet.js");
    this.node = new AudioWorkletNode(this.context, "capture-16k", { numberOfInputs: 1, numberOfOutputs: 0 });
    this.node.port.onmessage = (e) => send(e.data);
    this.input.connect(this.node);
  }

  // Stops capturing; `then()` is called once the last audio was handed to `send` (the caller sends "stop").
  stop(then) {
    if (this.node) {
      // blocks the worklet already posted must not follow "stop": the server would call them audio before start
      this.node.port.onmessage = null;
      this.node.disconnect();
    }
    if (this.recorder && this.recorder.state !== "inactive") {
      this.recorder.onstop = then;
      this.recorder.stop();
    } else {
      then();
    }
    this.release();
  }

  release() {
    this.media?.getTracks().forEach((t) => t.stop());
    this.input?.disconnect();
    this.node?.disconnect();
  }

  // The input level now, in dB below full scale (SILENT_DB .. 0).
  levelDb() {
    if (!this.analyser) return SILENT_DB;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const s of this.samples) sum += s * s;
    const rms = Math.sqrt(sum / this.samples.length);
    return Math.max(SILENT_DB, Math.min(0, 20 * Math.log10(rms || 1e-9)));
  }
}
