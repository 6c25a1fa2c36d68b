"""A stream's audio input without the socket: one bounded queue for chunks and for a container's bytes, and a
browser's opus stream decoded to the same audio a file of it gives.

The connection's part (pushing messages, reading events) is played by the test; everything else is the real
code, with real opus encoded by FFmpeg.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.audio.file import FileSource
from assistant.server.audio_in import ChunkQueue, ContainerInput
from assistant.server.protocol import parse_start
from tests.helpers import WAKE_DEV, read
from tests.server_helpers import encode_opus


def test_a_byte_queue_is_bounded_in_bytes_not_messages():
    queue: ChunkQueue[bytes] = ChunkQueue(10, len)
    queue.put(b"abcdef")
    assert queue.has_room()
    queue.put(b"ghijk")
    assert not queue.has_room() and len(queue) == 2
    assert queue.get() is not None and queue.has_room()


@pytest.mark.parametrize("container", ["webm", "ogg"])
def test_a_stream_in_small_messages_decodes_to_the_file_s_audio(tmp_path, container):
    """The bytes of a recording sent as 700-byte messages, the way MediaRecorder slices them: the stream's
    audio is what `assistant run --input` reads from the same bytes as a file, from 20 ms on (the live
    demuxer, probing as little as it can so audio flows at once, starts at the second 20 ms packet)."""
    data = encode_opus(read(WAKE_DEV / "alexa_0.flac"), container)
    path = tmp_path / f"alexa.{container}"
    path.write_bytes(data)
    chunks: ChunkQueue[np.ndarray] = ChunkQueue(10_000)
    errors: list = []
    stream = ContainerInput(parse_start({"type": "start", "encoding": f"{container}/opus", "backpressure": True}), chunks, lambda: None, errors.append, 4096)
    for offset in range(0, len(data), 700):
        stream.push(data[offset : offset + 700])
    stream.end()
    received = []
    while (item := chunks.get(timeout=10)) is not None:
        received.append(item[0])
    assert chunks.over and errors == []
    streamed, whole = np.concatenate(received), np.concatenate(list(FileSource(path).frames()))[320:]
    assert len(whole) - len(streamed) < 1280
    n = min(len(whole), len(streamed))
    assert np.corrcoef(streamed[:n].astype(float), whole[:n].astype(float))[0, 1] > 0.99


def test_aborting_a_stream_wakes_its_decoder_waiting_for_bytes():
    """A client gone mid-stream: the decoder thread, blocked reading the next bytes, ends at once."""
    chunks: ChunkQueue[np.ndarray] = ChunkQueue(100)
    running = set(threading.enumerate())
    stream = ContainerInput(parse_start({"type": "start", "encoding": "webm/opus"}), chunks, lambda: None, lambda event: None, 4096)
    (decoder,) = set(threading.enumerate()) - running
    stream.push(encode_opus(read(WAKE_DEV / "alexa_0.flac"), "webm")[:300])  # the header, then nothing
    stream.abort()
    decoder.join(5)
    assert not decoder.is_alive() and chunks.over
