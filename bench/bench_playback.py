"""Playback honesty: does what Player reports match what came out of the speaker, and is anything lost?

Plays a seeded 1 s white-noise burst through ``Player`` (PortAudio → ALSA
"default" → a private PulseAudio null sink) and records the sink's monitor.
Noise makes every 25 ms window unique, so each window of the burst is looked
for in the recording: a window not found was lost. Reported per setting:
play() → first sample handed to the device, recorded onset − ``start_time``,
recorded end − ``end_time``, recorded end → ``finished``, audio lost at the
start / end, and how long ``stop()`` takes to silence the sink. Run once with
the default padding and once without, which is why the padding exists.

    python bench/bench_playback.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from scipy.signal import correlate  # noqa: E402

from bench._common import headline, machine, percentile, save, table  # noqa: E402

RATE = 16000
WINDOW = 400


def burst(seconds: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.clip(rng.normal(0, 6000, round(seconds * RATE)), -30000, 30000).astype(np.int16)


def found_windows(source: np.ndarray, heard: np.ndarray) -> np.ndarray:
    """For each WINDOW of ``source``, where it is in ``heard`` (or -1 when it is not there)."""
    heard = heard.astype(np.float64)
    positions = []
    for start in range(0, len(source) - WINDOW + 1, WINDOW):
        window = source[start : start + WINDOW].astype(np.float64)
        scores = correlate(heard, window, mode="valid", method="fft")
        at = int(np.argmax(scores))
        quality = scores[at] / (np.linalg.norm(window) * np.linalg.norm(heard[at : at + WINDOW]) + 1e-9)
        positions.append(at if quality > 0.5 else -1)
    return np.array(positions)


def measure(server, player, repeats: int) -> dict[str, list[float]]:
    source = burst()
    results: dict[str, list[float]] = {k: [] for k in ("open", "onset", "end", "finished", "lost_start", "lost_end", "stop")}
    for _ in range(repeats):
        mark = server.speaker.mark()
        called = time.monotonic()
        playback = player.play(source)
        playback.wait(10)
        done = time.monotonic()
        time.sleep(0.3)
        heard = server.speaker.audio(mark)
        found = found_windows(source, heard)
        present = np.flatnonzero(found >= 0)
        results["open"].append(playback.start_time - called)
        if not len(present):
            results["lost_start"].append(len(source) / RATE)
            results["lost_end"].append(0.0)
            continue
        first, last = present[0], present[-1]
        results["lost_start"].append(first * WINDOW / RATE)
        results["lost_end"].append((len(found) - 1 - last) * WINDOW / RATE)
        onset = server.speaker.time_of(mark + found[first] - first * WINDOW)
        end = server.speaker.time_of(mark + found[last] + WINDOW)
        results["onset"].append(onset - playback.start_time)
        if not results["lost_end"][-1]:
            results["end"].append(end - playback.end_time)
        results["finished"].append(done - end)

        mark = server.speaker.mark()
        long = player.play(np.tile(source, 3))
        long.started.wait(2)
        time.sleep(0.5)
        stopped = time.monotonic()
        player.stop()
        long.wait(2)
        time.sleep(0.3)
        heard = server.speaker.audio(mark)
        loud = np.flatnonzero(np.abs(heard.astype(np.int32)) > 3000)
        results["stop"].append(server.speaker.time_of(mark + loud[-1]) - stopped)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    from tests.pulse import PulseServer

    server = PulseServer()
    try:
        os.environ.update({k: server.env[k] for k in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE")})
        from assistant.audio import devices, playback

        devices.rescan()
        padding = (playback.LEAD_IN_SECONDS, playback.TAIL_SECONDS)
        rows, raw = [], {}
        for label, (lead, tail) in [("padded (default)", padding), ("no padding", (0.0, 0.0))]:
            playback.LEAD_IN_SECONDS, playback.TAIL_SECONDS = lead, tail
            player = playback.Player()
            try:
                result = measure(server, player, args.repeats)
            finally:
                player.close()
            raw[label] = result | {"underflows": player.underflows}
            ms = {k: [1000 * v for v in values] for k, values in result.items()}
            rows.append(
                [
                    label,
                    f"{percentile(ms['open'], 50):.0f} / {percentile(ms['open'], 95):.0f}",
                    f"{percentile(ms['onset'], 50):+.0f} / {percentile(ms['onset'], 95):+.0f}",
                    f"{percentile(ms['end'], 50):+.0f} / {percentile(ms['end'], 95):+.0f}",
                    f"{percentile(ms['finished'], 50):.0f}",
                    f"{sum(v > 0 for v in ms['lost_start'])}/{args.repeats}, max {max(ms['lost_start']):.0f}",
                    f"{sum(v > 0 for v in ms['lost_end'])}/{args.repeats}, max {max(ms['lost_end']):.0f}",
                    f"{percentile(ms['stop'], 50):.0f} / {percentile(ms['stop'], 95):.0f}",
                    player.underflows,
                ]
            )
        playback.LEAD_IN_SECONDS, playback.TAIL_SECONDS = padding
    finally:
        server.stop()
    headers = ["setting", "play→start ms p50/p95", "onset−start ms", "end−end_time ms", "end→finished ms", "start lost (runs, max ms)", "end lost (runs, max ms)", "stop→silence ms", "underflows"]
    print(f"Player on PortAudio → ALSA → PulseAudio null sink, {machine()}, {args.repeats} runs each\n")
    print(table(headers, rows))
    default = raw["padded (default)"]
    lines = [
        headline("play() → first sample on the device p50", round(1000 * percentile(default["open"], 50)), "ms"),
        headline("stop() → silence p50", round(1000 * percentile(default["stop"], 50)), "ms"),
    ]
    payload = {"repeats": args.repeats, "rows": [dict(zip(headers, r, strict=True)) for r in rows], "raw_seconds": raw}
    print(f"\nwrote {save('playback', payload, headline=lines)}")


if __name__ == "__main__":
    main()
