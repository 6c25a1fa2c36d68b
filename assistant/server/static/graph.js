// The rolling graph of wake-word scores (`wake_scores` events: each model's highest score about
// five times a second, with the threshold it must pass, the wake engine's own), drawn in SVG: one
// line per model, the threshold as a dashed line, a dot where a score went over it (it fired). Gaps (the pipeline was capturing a command, not
// listening for the wake word) break the line.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 64;
const PAD = 3;
const WINDOW_SECONDS = 15;
const GAP_SECONDS = 0.6;
const COLORS = ["var(--wake-1)", "var(--wake-2)", "var(--wake-3)", "var(--wake-4)", "var(--wake-5)"];

function node(tag, attributes) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  return el;
}

export class WakeGraph {
  constructor(svg, legend) {
    this.svg = svg;
    this.legend = legend;
    this.points = new Map(); // model → [{t, score}]
    this.thresholds = {};
    this.max = 0;
  }

  // A new stream: its own scores, its own highest.
  reset() {
    this.points.clear();
    this.max = 0;
    this.svg.dataset.crossed = "false";
    this.svg.dataset.max = "0";
    this.render();
  }

  push(event) {
    this.thresholds = event.thresholds;
    for (const [model, score] of Object.entries(event.scores)) {
      if (!this.points.has(model)) this.points.set(model, []);
      const series = this.points.get(model);
      series.push({ t: event.audio_t, score });
      while (series.length && series[0].t < event.audio_t - WINDOW_SECONDS) series.shift();
      this.max = Math.max(this.max, score);
      if (score > (this.thresholds[model] ?? 1)) this.svg.dataset.crossed = "true";
    }
    this.svg.dataset.max = this.max.toFixed(3);
    this.render();
  }

  render() {
    const end = Math.max(WINDOW_SECONDS, ...[...this.points.values()].map((s) => s.at(-1)?.t ?? 0));
    const x = (t) => WIDTH - ((end - t) / WINDOW_SECONDS) * WIDTH;
    const y = (score) => HEIGHT - PAD - score * (HEIGHT - 2 * PAD);
    const children = [];
    const lines = new Set(Object.values(this.thresholds));
    for (const threshold of lines) {
      children.push(node("line", { class: "threshold", x1: 0, x2: WIDTH, y1: y(threshold), y2: y(threshold) }));
    }
    const legend = [];
    [...this.points.keys()].forEach((model, i) => {
      const color = COLORS[i % COLORS.length];
      const series = this.points.get(model);
      let run = [];
      const flush = () => {
        if (run.length > 1) children.push(node("polyline", { class: "score", stroke: color, points: run.join(" ") }));
        run = [];
      };
      series.forEach((p, j) => {
        if (j > 0 && p.t - series[j - 1].t > GAP_SECONDS) flush();
        run.push(`${x(p.t).toFixed(1)},${y(p.score).toFixed(1)}`);
        if (p.score > (this.thresholds[model] ?? 1)) children.push(node("circle", { class: "crossing", cx: x(p.t), cy: y(p.score), r: 3, fill: color }));
      });
      flush();
      const last = series.at(-1)?.score ?? 0;
      const key = document.createElement("span");
      key.className = "key";
      key.style.setProperty("--key", color);
      key.textContent = `${model.replaceAll("_", " ")} ${last.toFixed(2)}`;
      legend.push(key);
    });
    this.svg.replaceChildren(...children);
    const threshold = [...lines][0];
    if (threshold !== undefined) this.svg.dataset.threshold = String(threshold);
    this.svg.setAttribute("aria-label", `wake-word score, highest ${this.max.toFixed(2)}${threshold !== undefined ? `, fires at ${threshold}` : ""}`);
    this.legend.replaceChildren(...legend);
  }
}
