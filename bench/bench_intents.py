"""Intent recognition speed and memory, with the built-in skills and with the coffee grammar loaded.

Per utterance, ``IntentEngine.recognize`` is timed (best of --repeats, so a
noisy neighbour does not decide) and p50/p95/max are reported per set:
exact phrasings (every intent's examples and a sample of the vocabulary
phrases), misheard versions of them (fuzzy path), out-of-scope sentences
(rejection: the full fuzzy search), and the coffee-dev labels said cleanly,
as whisper writes them and misheard. Each configuration runs in its own
process so the memory numbers are its own: RSS after Python and the intent
modules are imported, and the growth from loading the plugins.

    python bench/bench_intents.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import headline, machine, percentile, save  # noqa: E402

CONFIGS = {"built-ins": [], "built-ins + coffee": ["coffee"]}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(extra: list[str], repeats: int) -> dict:
    """Runs inside the child process for one configuration."""
    from assistant.config import Config
    from assistant.intents import IntentEngine
    from tests.intents_helpers import (
        OUT_OF_SCOPE,
        coffee_labels,
        coffee_text,
        misheard,
        whisper_style,
    )

    base = rss_mib()
    start = time.perf_counter()
    engine = IntentEngine.from_config(Config(), extra)
    load_seconds = time.perf_counter() - start
    loaded = rss_mib()

    rng = random.Random(0)
    examples = [(e, i.name, None) for i in engine.intents(examples=2) for e in i.examples]
    phrases = list(engine.vocabulary().phrases)
    exact = examples + [(p, None, None) for p in rng.sample(phrases, min(200, len(phrases)))]
    sets: dict[str, list[tuple[str, str | None, dict | None]]] = {
        "exact": exact,
        "misheard": [(misheard(text, seed=n), name, None) for n, (text, name, _) in enumerate(examples)],
        "out of scope": [(text, None, None) for text in OUT_OF_SCOPE],
    }
    if "coffee" in extra:
        labels = coffee_labels()
        spoken = [(coffee_text(lab["slots"], n), lab["intent"], lab["slots"]) for n, lab in enumerate(labels)]
        sets["coffee spoken"] = spoken
        sets["coffee whisper"] = [(whisper_style(t), name, slots) for t, name, slots in spoken]
        sets["coffee misheard"] = [(misheard(t, seed=n), name, slots) for n, (t, name, slots) in enumerate(spoken)]

    rows = {}
    for set_name, items in sets.items():
        times, right, labelled = [], 0, 0
        for text, intent, slots in items:
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                match = engine.recognize(text)
                best = min(best, time.perf_counter() - t0)
            times.append(best * 1000)
            if set_name == "out of scope":
                labelled += 1
                right += match is None
            elif intent is not None:
                labelled += 1
                right += match is not None and match.name == intent and (slots is None or match.slots == slots)
        rows[set_name] = {
            "n": len(items),
            "p50_ms": round(percentile(times, 50), 3),
            "p95_ms": round(percentile(times, 95), 3),
            "max_ms": round(max(times), 3),
            "right": round(right / labelled, 4) if labelled else None,
        }
    return {
        "plugins": [p.name for p in engine.plugins],
        "load_seconds": round(load_seconds, 3),
        "rss_base_mib": round(base, 1),
        "rss_loaded_mib": round(loaded, 1),
        "rss_growth_mib": round(loaded - base, 1),
        "fuzzy_graph_arcs": engine.fuzzy_graph_size,
        "vocabulary_words": len(engine.vocabulary().words),
        "sets": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(json.loads(args.child), args.repeats)))
        return

    results = {}
    for name, extra in CONFIGS.items():
        child = subprocess.run(
            [sys.executable, __file__, "--repeats", str(args.repeats), "--child", json.dumps(extra)],
            capture_output=True, text=True, check=True, cwd=REPO,
        )  # fmt: skip
        results[name] = json.loads(child.stdout.splitlines()[-1])

    print(f"Intent recognition latency per utterance (best of {args.repeats}); {machine()}\n")
    header = f"{'plugins':<19} {'set':<16} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'right':>7}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        for set_name, row in r["sets"].items():
            right = f"{row['right']:.1%}" if row["right"] is not None else "-"
            print(f"{name:<19} {set_name:<16} {row['n']:>4} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['max_ms']:>8.2f} {right:>7}")
    print(f"\n{'plugins':<19} {'load s':>7} {'RSS base MiB':>13} {'RSS loaded MiB':>15} {'growth MiB':>11} {'graph arcs':>11} {'words':>6}")
    for name, r in results.items():
        print(
            f"{name:<19} {r['load_seconds']:>7.3f} {r['rss_base_mib']:>13.1f} {r['rss_loaded_mib']:>15.1f} "
            f"{r['rss_growth_mib']:>11.1f} {r['fuzzy_graph_arcs']:>11} {r['vocabulary_words']:>6}"
        )
    coffee = results["built-ins + coffee"]
    lines = [
        headline(f"recognize p50, built-ins + coffee, {set_name}", coffee["sets"][set_name]["p50_ms"], "ms")
        for set_name in ("exact", "misheard", "out of scope", "coffee whisper")
    ]
    lines.append(headline("intent engine memory, built-ins + coffee", coffee["rss_growth_mib"], "MiB"))
    print(f"\nwrote {save('intents', {'repeats': args.repeats, 'results': results}, headline=lines)}")


if __name__ == "__main__":
    main()
