// Microphone → 16 kHz mono int16 in 80 ms blocks, on the audio rendering thread.
//
// The AudioContext runs at the device rate (48 kHz, 44.1 kHz, ...): asking for a
// 16 kHz context is not portable (Firefox refuses to connect a microphone of another
// rate). So the resampling happens here: a windowed-sinc low-pass below the new
// Nyquist frequency (no aliasing of 8-24 kHz into speech), evaluated only where an
// output sample falls, with linear interpolation between the two filtered samples
// around it.

const TARGET_RATE = 16000;
const BLOCK = 1280; // 80 ms: the pipeline's chunk
const TAPS = 63;
const HISTORY = 4096; // ring of recent input samples; far more than TAPS + one render quantum

function lowpass(rate, cutoff, taps) {
  const h = new Float32Array(taps);
  const middle = (taps - 1) / 2;
  const fc = cutoff / rate;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - middle;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    h[i] = sinc * blackman;
    sum += h[i];
  }
  for (let i = 0; i < taps; i++) h[i] /= sum;
  return h;
}

class Capture16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.filter = sampleRate > TARGET_RATE ? lowpass(sampleRate, 0.45 * TARGET_RATE, TAPS) : new Float32Array([1]);
    this.history = new Float32Array(HISTORY);
    this.written = 0; // input samples ever received
    this.position = this.filter.length; // next output sample, in input samples (fractional)
    this.block = new Int16Array(BLOCK);
    this.fill = 0;
  }

  filtered(n) {
    // causal FIR output at absolute input index n (needs inputs n - taps + 1 .. n)
    const h = this.filter;
    let acc = 0;
    for (let k = 0; k < h.length; k++) acc += h[k] * this.history[(n - k) & (HISTORY - 1)];
    return acc;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let mixed = 0;
      for (let c = 0; c < channels.length; c++) mixed += channels[c][i];
      this.history[(this.written + i) & (HISTORY - 1)] = mixed / channels.length;
    }
    this.written += frames;
    while (this.position + 1 < this.written) {
      const index = Math.floor(this.position);
      const frac = this.position - index;
      const a = this.filtered(index);
      const value = frac === 0 ? a : a + (this.filtered(index + 1) - a) * frac;
      const clipped = Math.max(-1, Math.min(1, value));
      this.block[this.fill++] = clipped < 0 ? clipped * 32768 : clipped * 32767;
      if (this.fill === BLOCK) {
        this.port.postMessage(this.block.buffer, [this.block.buffer]);
        this.block = new Int16Array(BLOCK);
        this.fill = 0;
      }
      this.position += this.step;
    }
    return true;
  }
}

registerProcessor("capture-16k", Capture16k);
