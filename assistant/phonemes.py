"""How words sound: espeak-ng's phonemes, for matching what a recognizer misheard.

A recognizer mishears by sound, and spelling hides some of that: in kitchen noise
whisper wrote "lots of holder" for "lots of whole milk", and "holder"/"whole" share
half their letters but all the sounds of "whole" (hoʊldɚ / hoʊl). The fuzzy matcher
(:mod:`assistant.intents.fuzzy`) takes the closer of the two likenesses.

espeak-ng comes inside piper-tts with its own data, so every install at the tested
versions (scripts/requirements.lock) hears a word the same way, whatever espeak-ng
the system has. It keeps one voice for the whole process, is not thread-safe, and
Piper's replies use the same copy: every use of it holds :data:`ESPEAK_LOCK`
(:class:`~assistant.tts.piper_voice.PiperSpeaker` while it reads a reply's text too).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.errors import ModelError

ESPEAK_LOCK = threading.Lock()
"""Held for every call into piper's espeak-ng: matching words here, and reading the text of a Piper reply."""
VOICE = "en-us"
"""How words are read. Only words in the Latin alphabet have sounds here: espeak-ng reads Han characters as
"Chinese letter" and Thai as the names of its code points, which would make unrelated words sound alike."""
MAX_CACHED = 100_000
"""Words whose sounds are kept (heard words, and heard pairs run together: about two entries per word of a
command, some 20 MB when full); past this the cache starts over (a hub hears new words for weeks)."""

_TWO_SYMBOL_SOUNDS = {"oʊ": "O", "aɪ": "I", "ɔɪ": "Y", "aʊ": "W", "eɪ": "E", "iː": "i", "ɑː": "a", "uː": "u", "ɜː": "3", "ɔː": "o", "n̩": "n"}
"""Diphthongs espeak-ng writes with two symbols as one symbol each, long vowels as their short ones: one sound is
one edit, so "soy"/"so" (sɔɪ/soʊ) differ in one of two sounds, not in two of three symbols."""
_NOT_SOUNDS = re.compile(r"[ˈˌʲ\s]")
"""Stress marks, the glide espeak-ng writes between some vowels, spaces."""
_LATIN_WORD = re.compile(r"[a-zà-ÿ'-]*[a-zà-ÿ][a-zà-ÿ'-]*", re.IGNORECASE)

_cache: dict[str, str] = {}
_bridge: Any = None


def sounds(words: Sequence[str]) -> list[str]:
    """Each word's phonemes as one string (one symbol per sound); "" for a word with no sounds here: numbers
    ("5", and "#" that marks a pair of words with a number in it: matched by value) and other scripts."""
    global _cache
    known = _cache  # only ever added to; starting over makes a new dict
    missing = [w for w in dict.fromkeys(words) if w not in known and _LATIN_WORD.fullmatch(w)]
    heard: dict[str, str] = {}
    if missing:
        with ESPEAK_LOCK:
            bridge = _espeak()
            bridge.set_voice(VOICE)  # Piper's replies may have left another voice
            heard = {word: _symbols("".join(clause for clause, _end, _last in bridge.get_phonemes(word))) for word in missing}
            if len(_cache) + len(heard) > MAX_CACHED:
                _cache = {}  # a new dict, not cleared: what another thread holds stays whole
            _cache.update(heard)
    return [heard[w] if w in heard else known.get(w, "") for w in words]


def _symbols(phonemes: str) -> str:
    text = _NOT_SOUNDS.sub("", phonemes)
    for pair, one in _TWO_SYMBOL_SOUNDS.items():
        text = text.replace(pair, one)
    return text


def _espeak() -> Any:
    """piper's espeak-ng module, loaded and started once (under :data:`ESPEAK_LOCK`) without the piper package
    itself: that imports onnxruntime (about 20 MiB and 0.1 s) for every process that matches a sentence. It is
    registered under piper's own name, so piper finds it loaded."""
    global _bridge
    if _bridge is None:
        package = importlib.util.find_spec("piper")
        found = package and package.submodule_search_locations and importlib.machinery.PathFinder.find_spec("espeakbridge", list(package.submodule_search_locations))
        if not found:
            raise ModelError(
                "piper-tts is not installed, and the intent matcher needs its espeak-ng to compare how words sound: "
                "run ./scripts/setup.sh, or `pip install piper-tts`"
            )
        module = sys.modules.get("piper.espeakbridge")
        if module is None:
            module = importlib.util.module_from_spec(found)
            found.loader.exec_module(module)
            sys.modules["piper.espeakbridge"] = module
        module.initialize(str(Path(found.origin).parent / "espeak-ng-data"))
        _bridge = module
    return _bridge
