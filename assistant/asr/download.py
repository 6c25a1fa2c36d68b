"""Fetch a model archive over HTTP: resumable, verified, with a progress bar.

The archive is written to ``<dest>`` as it arrives. A dropped connection is
retried from where it broke off (HTTP Range), and so is a download the user
interrupted, on the next run. Only a file of the expected size and SHA-256 is
returned; a corrupt one is deleted. Failures are :class:`ModelError` with a
message that says what to do, never a traceback.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from assistant.errors import ModelError

_log = logging.getLogger(__name__)

_BLOCK = 1 << 16
_USER_AGENT = "assistant-model-manager/1"


def fetch(
    url: str,
    dest: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    attempts: int = 5,
    timeout: float = 30.0,
    retry_delay: float = 1.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` into ``dest`` (resuming what is there) and verify it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        have = dest.stat().st_size if dest.exists() else 0
        if size is not None and have > size:
            dest.unlink()  # not the file we expect: start over
            have = 0
        if size is not None and have == size:
            break
        try:
            if _transfer(url, dest, have, size, timeout, progress):
                break
        except _Interrupted as exc:
            if attempt == attempts:
                raise ModelError(f"downloading {url} failed {attempts} times ({exc.reason}); run the same command again to resume") from None
            _log.warning("download of %s interrupted (%s); resuming (attempt %d of %d)", url, exc.reason, attempt + 1, attempts)
            time.sleep(retry_delay * attempt)
    _verify(dest, url, size, sha256)
    return dest


class _Interrupted(Exception):
    """The connection broke after the transfer started: worth resuming."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _transfer(url: str, dest: Path, have: int, size: int | None, timeout: float, progress: bool) -> bool:
    """One request; True when the file is complete."""
    headers = {"User-Agent": _USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: what we have is the whole file (verified next)
            return True
        if exc.code == 404:
            raise ModelError(f"{url} does not exist (HTTP 404): the model may have been renamed or withdrawn upstream") from None
        raise ModelError(f"{url}: the server answered HTTP {exc.code} {exc.reason}; try again later") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"cannot reach {urllib.request.urlparse(url).netloc} to download {url.rsplit('/', 1)[-1]} ({reason}). "
            "Are you offline? Download that file on a machine that is online, unzip it and set asr.model to the "
            "unzipped directory (or copy it into the folder `assistant models path NAME` prints)."
        ) from None
    with response:
        if have and response.status != 206:
            _log.info("%s does not support resuming; downloading from the start", url)
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else size
        try:
            with open(dest, "ab" if have else "wb") as f, _bar(dest.name, total, have, progress) as bar:
                while block := response.read(_BLOCK):
                    f.write(block)
                    bar.update(len(block))
        except (http.client.IncompleteRead, ConnectionError, TimeoutError) as exc:
            raise _Interrupted(type(exc).__name__) from None
    got = dest.stat().st_size
    if total is not None and got < total:
        raise _Interrupted(f"connection closed after {got} of {total} bytes")
    return True


def _bar(name: str, total: int | None, initial: int, enabled: bool) -> tqdm:
    # disable=None: drawn only on a terminal, so pipes and logs stay clean
    return tqdm(total=total, initial=initial, desc=name, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, disable=None if enabled else True, leave=False)


def _verify(dest: Path, url: str, size: int | None, sha256: str | None) -> None:
    got = dest.stat().st_size
    if size is not None and got != size:
        dest.unlink()
        raise ModelError(f"{url}: downloaded {got} bytes but the model is {size} bytes; the partial file was deleted, run the command again")
    if sha256 is None:
        return
    digest = hashlib.sha256()
    with open(dest, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != sha256.lower():
        dest.unlink()
        raise ModelError(
            f"{url}: the download is corrupt or not the expected file (SHA-256 {digest.hexdigest()[:16]}..., "
            f"expected {sha256[:16]}...); it was deleted. Run the command again; if it keeps failing the file changed upstream."
        )
