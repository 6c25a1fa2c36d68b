"""Barge-in over our own reply: the wake word said while the assistant speaks, with and without an echo canceller.

A room built from PulseAudio null sinks, paced in real time: what the assistant plays into ``speaker``
reaches the microphone sink ``mic`` through a loopback (the room's echo path, 40 ms late), and the user's
voice is played into ``mic`` over it. PulseAudio's echo canceller (``module-echo-cancel``, WebRTC), the one
the README recommends for a speaker next to the microphone, takes the reply on its way to the speaker as
its reference and gives an echo-cancelled source. Both the raw microphone and that source are recorded at
the same time, and the wake engine (microWakeWord, "alexa") scores each.

Each of the wake-dev "alexa" recordings is said 2.5 s into a Piper reply of about 6 s, its level set
against the reply's: the voice as loud as the echo, 10 dB under it (a speaker closer to the microphone than
the user), and with no reply at all (what the canceller costs when nothing plays). A detection before the
word is a false wake on our own voice.

    PYTHONPATH=. python bench/bench_echo.py [--clips N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, headline, load_16k, machine, save, table  # noqa: E402
from bench.bench_wake import CHUNK, RATE, our_detector  # noqa: E402

WORD_AT = 2.5
"""Seconds into the reply when the user says the wake word."""
REPLY = (
    "Your large latte with oat milk is on its way. It will be ready in about two minutes. "
    "Your timer for twelve minutes is set, and I will tell you when it is done."
)
CONDITIONS = [("no reply", None), ("voice = echo", 0.0), ("voice 10 dB under the echo", -10.0)]
ROOM_LATENCY_MS = 40
AEC_ARGS = "analog_gain_control=0 digital_gain_control=0"
"""Without these the canceller's gain control turns the microphone itself down (to 33 % here), for the raw
recording too: the comparison would not be of the same microphone."""


def speech_power(audio: np.ndarray) -> float:
    """Mean power of the louder half of 10 ms frames: the speech, not the pauses."""
    frames = audio[: len(audio) // 160 * 160].astype(np.float64).reshape(-1, 160)
    power = np.sort(np.mean(frames**2, axis=1))
    return float(np.mean(power[len(power) // 2 :]))


class Room:
    """A private PulseAudio with a speaker, a microphone, the echo path between them and the echo canceller."""

    def __init__(self, aec_args: str) -> None:
        from tests.pulse import PulseServer, Recording

        self.server = PulseServer()
        try:
            self.server.pactl("load-module", "module-loopback", "source=speaker.monitor", "sink=mic", f"latency_msec={ROOM_LATENCY_MS}")
            self.server.pactl(
                "load-module", "module-echo-cancel", "source_master=mic.monitor", "sink_master=speaker", "aec_method=webrtc", f'aec_args="{aec_args}"', "source_name=ec_source", "sink_name=ec_sink"
            )
            self.raw = self.server.mic
            self.cancelled = Recording(self.server.env, "ec_source").wait_ready()
        except Exception:
            self.server.stop()
            raise

    def close(self) -> None:
        self.cancelled.stop()
        self.server.stop()


def trial(room: Room, detector, word: np.ndarray, reply: np.ndarray | None) -> dict[str, tuple[bool, int]]:
    """Play one reply with the word said over it; per source: (the word heard, false wakes before it)."""
    from assistant.wake import scan

    marks = {"raw": room.raw.mark(), "cancelled": room.cancelled.mark()}
    if reply is not None:
        room.server.play(reply, sink="ec_sink")
        time.sleep(WORD_AT)
    said_at = time.monotonic()
    room.server.play(word)
    ends = said_at + max(len(word) / RATE, 0.0 if reply is None else len(reply) / RATE - WORD_AT) + 1.0
    time.sleep(max(0.0, ends - time.monotonic()))
    result = {}
    for name, recording in (("raw", room.raw), ("cancelled", room.cancelled)):
        recording.through(ends)
        audio = recording.audio(marks[name])
        audio = audio[: len(audio) // CHUNK * CHUNK]
        times = [recording.time_of(marks[name] + int(d["t"] * RATE)) for d in scan(detector, audio.reshape(-1, CHUNK)).detections]
        result[name] = (any(t >= said_at for t in times), sum(t < said_at for t in times))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, help="the first N wake-dev alexa recordings only")
    parser.add_argument("--aec-args", default=AEC_ARGS, help=f"module-echo-cancel's WebRTC settings (default {AEC_ARGS!r})")
    args = parser.parse_args()
    from tests.helpers import piper

    detector = our_detector("microwakeword", ["alexa"])
    words = [load_16k(p) for p in sorted((DATA / "wake-dev").glob("alexa_*.flac"))[: args.clips]]
    reply = piper(REPLY)
    reply = (reply.astype(np.float64) * (0.5 * 32767 / np.abs(reply).max())).astype(np.int16)
    room = Room(args.aec_args)
    rows = []
    try:
        for name, voice_db in CONDITIONS:
            heard = {"raw": 0, "cancelled": 0}
            false = {"raw": 0, "cancelled": 0}
            for word in words:
                gain = 1.0 if voice_db is None else np.sqrt(speech_power(reply) * 10 ** (voice_db / 10) / speech_power(word))
                scaled = np.clip(word.astype(np.float64) * gain, -32768, 32767).astype(np.int16)
                for source, (hit, wrong) in trial(room, detector, scaled, None if voice_db is None else reply).items():
                    heard[source] += hit
                    false[source] += wrong
            rows.append({"condition": name, "voice_db": voice_db, "clips": len(words), "heard": heard, "false_wakes": false})
            print(f"{name}: raw {heard['raw']}/{len(words)}, echo-cancelled {heard['cancelled']}/{len(words)}", file=sys.stderr, flush=True)
    finally:
        room.close()
        detector.close()
    print(f"\nBarge-in: \"alexa\" (wake-dev) said {WORD_AT:g} s into a Piper reply on a PulseAudio room (echo path {ROOM_LATENCY_MS} ms), microWakeWord; aec_args {args.aec_args!r}; {machine()}\n")
    print(
        table(
            ["condition", "heard, raw microphone", "heard, echo-cancelled", "false wakes on the reply, raw / cancelled"],
            [[r["condition"], f"{r['heard']['raw']}/{r['clips']}", f"{r['heard']['cancelled']}/{r['clips']}", f"{r['false_wakes']['raw']} / {r['false_wakes']['cancelled']}"] for r in rows],
        )
    )
    lines = [headline(f"barge-in heard, {r['condition']}, {source}", round(r["heard"][source] / r["clips"], 4), "ratio") for r in rows for source in ("raw", "cancelled")]
    print(f"\nwrote {save('echo', {'rows': rows, 'word_at_seconds': WORD_AT, 'room_latency_ms': ROOM_LATENCY_MS, 'aec_args': args.aec_args}, headline=lines)}")


if __name__ == "__main__":
    main()
