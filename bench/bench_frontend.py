"""The audio front end (audio.processing): how much kitchen noise it removes, how much speech it keeps, its CPU.

For each WebRTC noise-suppression level: coffee-dev's kitchen noise alone through the front end (its
level after the first second against the input's, overall and in the quieter half and the loudest tenth
of its 10 ms frames: the steady hum against the clatter), the 62 clean coffee-dev orders alone (the level of
their loudest tenth of 10 ms frames, i.e. the speech, against the input's), and the CPU time it takes
(one thread, process time) as a share of real time. Acceptance with the front end on comes from
`bench/bench_accuracy.py --set audio.processing.enabled=true`.

The wake word with and without the front end (``--wake``): the 33 wake-dev "alexa" recordings, clean and
in the kitchen noise at 10 and 6 dB (mean and peak-frame SNR, three noise draws each, so n = 99 per
condition), each with 2 s of the same noise before and after (an always-on microphone hears the
kitchen before the word, and the suppressor and the engine settle on it); and false accepts of four wake
models on the 62 coffee-dev orders, which never say a wake word, clean and in the noise at 6 dB. The
front end runs on the stream before the engine, in 80 ms chunks, as in ``Pipeline.feed``.

    PYTHONPATH=. python bench/bench_frontend.py [--wake]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, headline, load_16k, machine, save, table  # noqa: E402
from bench.bench_wake import CHUNK, FALSE_ACCEPT_MODELS, RATE, our_detector  # noqa: E402

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
    cpu = 0.0
    samples = 0

    def through(audio: np.ndarray) -> np.ndarray:
        nonlocal cpu, samples
        started = time.process_time()
        out = through_front_end(audio, level, auto_gain)
        cpu += time.process_time() - started
        samples += len(audio)
        return out

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


WAKE_CONDITIONS = [("clean", None, "mean"), ("10 dB", 10.0, "mean"), ("6 dB", 6.0, "mean"), ("10 dB peak", 10.0, "peak"), ("6 dB peak", 6.0, "peak")]
WAKE_DRAWS = 3
NOISE_AROUND = 2 * RATE
"""The same noise goes on this long before and after each wake word."""


def through_front_end(audio: np.ndarray, level: int | None, auto_gain: int = 0) -> np.ndarray:
    """A stream's audio through a fresh front end at ``level`` (None = off), in the pipeline's 80 ms chunks."""
    from assistant.audio.processing import WebRtcProcessor

    if level is None:
        return audio
    processor = WebRtcProcessor(level, auto_gain)
    cleaned = np.concatenate([processor.process(audio[i : i + CHUNK]) for i in range(0, len(audio), CHUNK)])
    processor.close()
    return cleaned


def in_chunks(audio: np.ndarray) -> np.ndarray:
    return audio[: len(audio) // CHUNK * CHUNK].reshape(-1, CHUNK)


def wake_in_noise(engine: str, levels: list[int | None], alexa: list[np.ndarray], speech: list[np.ndarray], noise: np.ndarray) -> list[dict]:
    """Per front-end level: "alexa" detected per condition, and the four models' false accepts on speech."""
    from assistant.evaluate.noise import mix_at_snr
    from assistant.wake import scan

    def heard(clip: np.ndarray, snr: float | None, measure: str, draw: int, key: int) -> np.ndarray:
        if snr is None:
            return clip
        return mix_at_snr(clip, noise, snr, np.random.default_rng([draw, key]), measure, context=NOISE_AROUND)

    rows = []
    alexa_detector, everyone = our_detector(engine, ["alexa"]), our_detector(engine, FALSE_ACCEPT_MODELS)
    for level in levels:
        row: dict = {"engine": engine, "noise_suppression": level}
        for name, snr, measure in WAKE_CONDITIONS:
            draws = 1 if snr is None else WAKE_DRAWS
            mixes = [heard(clip, snr, measure, d, k) for d in range(draws) for k, clip in enumerate(alexa)]
            hits = sum(any(h["model"] == "alexa" for h in scan(alexa_detector, in_chunks(through_front_end(m, level))).detections) for m in mixes)
            row[name] = [hits, len(mixes)]
        for name, snr in (("false accepts, clean speech", None), ("false accepts, speech at 6 dB peak", 6.0)):
            mixes = [heard(clip, snr, "peak", 0, k) for k, clip in enumerate(speech)]
            row[name] = sum(len(scan(everyone, in_chunks(through_front_end(m, level))).detections) for m in mixes)
        row["speech_minutes"] = sum(len(c) for c in speech) / RATE / 60
        rows.append(row)
    alexa_detector.close()
    everyone.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--auto-gain", type=int, default=0)
    parser.add_argument("--clips", type=int, help="the first N coffee-dev orders only")
    parser.add_argument("--wake", action="store_true", help="also the wake word in noise with the front end off and at --wake-levels")
    parser.add_argument("--wake-levels", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--engines", nargs="*", default=["microwakeword", "openwakeword"])
    parser.add_argument("--alexa", type=int, help="the first N wake-dev alexa recordings only")
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
    payload: dict = {"rows": rows, "noise_seconds": len(noise) / 16000, "clips": len(clips)}
    if args.wake:
        alexa = [load_16k(p) for p in sorted((DATA / "wake-dev").glob("alexa_*.flac"))[: args.alexa]]
        wake = [row for engine in args.engines for row in wake_in_noise(engine, [None, *args.wake_levels], alexa, clips, noise)]
        conditions = [name for name, _, _ in WAKE_CONDITIONS]
        print(f"\nThe wake word through the front end: \"alexa\" detected in wake-dev ({len(alexa)} recordings; in noise {WAKE_DRAWS} draws each), kitchen noise at mean or peak-frame SNR with 2 s of it around each word; false accepts of {len(FALSE_ACCEPT_MODELS)} models on coffee-dev ({wake[0]['speech_minutes']:.1f} min)\n")
        print(
            table(
                ["engine", "front end", *[f"alexa, {c}" for c in conditions], "false accepts, clean speech", "false accepts, speech at 6 dB peak"],
                [[w["engine"], "off" if w["noise_suppression"] is None else f"NS {w['noise_suppression']}", *[f"{w[c][0]}/{w[c][1]}" for c in conditions], w["false accepts, clean speech"], w["false accepts, speech at 6 dB peak"]] for w in wake],
            )
        )
        for w in wake:
            setting = "front end off" if w["noise_suppression"] is None else f"NS level {w['noise_suppression']}"
            lines += [headline(f"alexa detected at {c} kitchen noise, {w['engine']}, {setting}", round(w[c][0] / w[c][1], 4), "ratio") for c in conditions[1:]]
        payload["wake"] = wake
    print(f"\nwrote {save('frontend', payload, headline=lines)}")


if __name__ == "__main__":
    main()
