// Reply audio: a `reply_audio` event announces `bytes` of mono int16 PCM at `rate`, which follow
// as binary messages; the reply plays once it is whole, after any reply still playing.
// `reply_audio_stop` (barge-in) stops it.

export class Player {
  // context(): the page's AudioContext (made on a click); enabled(): whether replies are spoken;
  // onPlaying(bool): a reply started, or the last one ended.
  constructor({ context, enabled, onPlaying }) {
    this.context = context;
    this.enabled = enabled;
    this.onPlaying = onPlaying;
    this.reply = null;
    this.playing = new Map(); // reply id → AudioBufferSourceNode
    this.playEnd = 0;
  }

  header(event) {
    this.reply = { header: event, parts: [], received: 0 };
  }

  bytes(buffer) {
    if (!this.reply) return;
    this.reply.parts.push(new Int16Array(buffer));
    this.reply.received += buffer.byteLength;
    if (this.reply.received < this.reply.header.bytes) return;
    const { header, parts } = this.reply;
    this.reply = null;
    const context = this.context();
    if (!context || !this.enabled()) return;
    const audio = context.createBuffer(1, header.samples, header.rate);
    const samples = audio.getChannelData(0);
    let offset = 0;
    for (const part of parts) {
      for (let i = 0; i < part.length && offset < samples.length; i++) samples[offset++] = part[i] / 32768;
    }
    const source = context.createBufferSource();
    source.buffer = audio;
    source.connect(context.destination);
    const at = Math.max(context.currentTime, this.playEnd); // replies play one after another
    source.start(at);
    this.playEnd = at + audio.duration;
    this.playing.set(header.id, source);
    this.onPlaying(true);
    source.onended = () => {
      this.playing.delete(header.id);
      if (this.playing.size === 0) this.onPlaying(false);
    };
  }

  stop(id) {
    this.playing.get(id)?.stop();
  }

  // The connection dropped: a reply half received is gone.
  reset() {
    this.reply = null;
  }
}
