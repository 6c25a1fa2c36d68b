"""The audio front end (audio.processing): how much kitchen noise it removes, how much speech it keeps, its CPU.

For each WebRTC noise-suppression level: coffee-dev's kitchen noise alone through the front end (its
level after the first second against the input's, overall and in the quieter half and the loudest tenth
of its 10 ms frames: the steady hum against the clatter), the 62 clean coffee-dev orders alone (the level of
their loudest tenth of 10 ms frames, i.e. the speech, against the input's), and the CPU time it takes
(one thread, process time) as a share of real time. Acceptance with the front end on comes from
`bench/bench_accuracy.py --set audio.processing.enabled=true`.

    PYTHONPATH=. python bench/bench_frontend.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, headline, load_16k, machine, save, table  # noqa: E402

COFFEE = DATA / "coffee-dev"
FRAME = 160


def level_db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(audio.astype(np.float64) ** 2) + 1e-9))


def loud_frames_db(audio: np.ndarray, share: float = 0.1) -> float:
    """The mean power of the loudest ``share`` of 10 ms frames, in dB."""
    frames = audio[: len(audio) // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME)
    power = np.sort(np.mean(frames**2, axis=1))[::-1]
    return float(10 * np.log10(np.mean(power[: max(1, int(len(power) * share))]) + 1e-9))


def frame_db(audio: np.ndarray) -> np.ndarray:
    frames = audio[: len(audio) // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME)
    return np.mean(frames**2, axis=1)


def change_db(before: np.ndarray, after: np.ndarray, where: np.ndarray) -> float:
    return round(float(10 * np.log10((np.mean(after[where]) + 1e-9) / (np.mean(before[where]) + 1e-9))), 1)


def run(level: int, auto_gain: int, noise: np.ndarray, clips: list[np.ndarray]) -> dict:
    from assistant.audio.processing import WebRtcProcessor

    cpu = 0.0
    samples = 0

    def through(audio: np.ndarray) -> np.ndarray:
        nonlocal cpu, samples
        processor = WebRtcProcessor(level, auto_gain)
        out = []
        started = time.process_time()
        for i in range(0, len(audio), 1280):
            out.append(processor.process(audio[i : i + 1280]))
        cpu += time.process_time() - started
        samples += len(audio)
        return np.concatenate(out)

    cleaned = through(noise)
    before, after = frame_db(noise)[100:], frame_db(cleaned)[100:]
    kept = [loud_frames_db(through(c)) - loud_frames_db(c) for c in clips]
    return {
        "noise_suppression": level,
        "auto_gain": auto_gain,
        "noise_change_db": round(level_db(cleaned[16000:]) - level_db(noise[16000:]), 1),
        "noise_quiet_half_change_db": change_db(before, after, before < np.median(before)),
        "noise_loudest_tenth_change_db": change_db(before, after, before > np.percentile(before, 90)),
        "speech_change_db_median": round(float(np.median(kept)), 1),
        "cpu_share_of_real_time": round(cpu / (samples / 16000), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--auto-gain", type=int, default=0)
    parser.add_argument("--clips", type=int, help="the first N coffee-dev orders only")
    args = parser.parse_args()
    import json

    noise = load_16k(COFFEE / "kitchen_noise.flac")
    cases = [json.loads(line) for line in (COFFEE / "manifest.jsonl").read_text().splitlines() if line.strip()]
    clips = [load_16k(COFFEE / c["audio"]) for c in cases[: args.clips]]
    rows = [run(level, args.auto_gain, noise, clips) for level in args.levels]
    print(f"\nAudio front end (WebRTC, webrtc-noise-gain), auto gain {args.auto_gain or 'off'}; {machine()}\n")
    print(
        table(
            ["noise_suppression", "kitchen noise level", "its quieter half", "its loudest tenth", "speech level (loudest 10 % of frames, median)", "CPU, share of one core in real time"],
            [[r["noise_suppression"], f"{r['noise_change_db']:+.1f} dB", f"{r['noise_quiet_half_change_db']:+.1f} dB", f"{r['noise_loudest_tenth_change_db']:+.1f} dB", f"{r['speech_change_db_median']:+.1f} dB", f"{100 * r['cpu_share_of_real_time']:.2f} %"] for r in rows],
        )
    )
    lines = [headline(f"kitchen noise, quieter half, NS level {r['noise_suppression']}", r["noise_quiet_half_change_db"], "dB") for r in rows]
    lines += [headline(f"front end CPU, NS level {r['noise_suppression']}", r["cpu_share_of_real_time"], "of a core") for r in rows]
    print(f"\nwrote {save('frontend', {'rows': rows, 'noise_seconds': len(noise) / 16000, 'clips': len(clips)}, headline=lines)}")


if __name__ == "__main__":
    main()
