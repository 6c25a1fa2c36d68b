"""`assistant eval MANIFEST`: accuracy on a labelled manifest of text or of recorded speech.

Text lines ``{"text": ..., "intent": NAME or null, "slots": {...}}`` score the
intent engine alone. Audio lines ``{"audio": path, "intent"?, "slots"?,
"text"?, "wake"?}`` go through the whole pipeline, as `assistant run --input`
runs it (wake word off unless the line names one); ``--noise FILE --snr DB``
mixes noise in first. Prints the accuracy per intent and the mistakes; the
last line is always a JSON summary (``command_acceptance``, ``wer``, ...) for
scripts.
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack

from assistant.commands import add_model_flags, add_wake_engine_flag
from assistant.config import Config
from assistant.errors import AssistantError, UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("eval", parents=[common], help="score intents (text) or the whole loop (audio) on a labelled JSONL manifest")
    p.add_argument(
        "manifest",
        metavar="MANIFEST",
        help='JSON lines {"text": ..., "intent": NAME or null, "slots": {...}} or {"audio": PATH, "intent": ..., "slots": ..., "text"?, "wake"?}',
    )
    add_wake_engine_flag(p)
    add_model_flags(p)
    p.add_argument("--wake", action="append", default=[], metavar="MODEL", help="audio: also listen for this wake model on clips without a wake word and count false accepts (repeatable)")
    p.add_argument("--noise", metavar="FILE", help="audio: mix this noise recording into every clip (needs --snr)")
    p.add_argument("--snr", type=float, metavar="DB", help="audio: signal-to-noise ratio of the mix in dB")
    p.add_argument("--snr-measure", choices=("mean", "peak"), default="mean", help="audio: SNR from mean power over the clip (default) or the loudest 2048-sample frame (Picovoice's benchmark)")
    p.add_argument("--seed", type=int, default=0, help="audio: seed for where in the noise each clip's noise starts (default 0)")
    p.add_argument("--details", metavar="FILE", help="write one JSON line per utterance (transcript, intent, errors) to FILE")
    p.add_argument("--json", action="store_true", help="one JSON line per utterance, then the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant.evaluate import is_audio, read_manifest

    cases = read_manifest(args.manifest)
    audio = is_audio(cases)
    if not audio and (args.noise or args.snr is not None or args.wake or args.asr or args.asr_model):
        raise UsageError("--noise, --snr, --wake, --asr and --asr-model apply to audio manifests; this one has text lines")
    if (args.noise is None) != (args.snr is None):
        raise UsageError("--noise FILE and --snr DB go together: the noise to mix and how far below the speech")
    with ExitStack() as stack:
        details = stack.enter_context(_open_details(args.details)) if args.details else None

        def emit(outcome) -> None:
            line = json.dumps(outcome.to_dict(), ensure_ascii=False)
            if details is not None:
                details.write(line + "\n")
                details.flush()
            if args.json:
                print(line, flush=True)

        report = _run_audio(args, config, cases, emit) if audio else _run_text(args, config, cases, emit)
    if args.json:
        print(json.dumps({"per_intent": {k: {"n": n, "right": r} for k, (n, r) in report.per_intent().items()}}))
    else:
        print(report.format())
    print(json.dumps(report.summary()))
    return 0


def _run_text(args: argparse.Namespace, config: Config, cases, emit):
    from assistant.evaluate import evaluate_text
    from assistant.intents import IntentEngine

    report = evaluate_text(IntentEngine.from_config(config, args.intents), cases)
    for outcome in report.outcomes:
        emit(outcome)
    return report


def _run_audio(args: argparse.Namespace, config: Config, cases, emit):
    from assistant.assembly import Resources
    from assistant.evaluate import AudioEvaluator, NoiseMixer

    noise = NoiseMixer.from_file(args.noise, args.snr, seed=args.seed, measure=args.snr_measure) if args.noise else None
    resources = Resources.load(config, intent_paths=args.intents, speak=False)
    try:
        evaluator = AudioEvaluator(config, resources, noise=noise, wake_models=args.wake)
        return evaluator.evaluate(cases, on_outcome=emit)
    finally:
        resources.close()


def _open_details(path: str):
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"cannot write the details file {path}: {exc.strerror}") from None

