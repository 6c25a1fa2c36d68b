"""A vosk grammar from the intents' vocabulary, and the check that rejects speech outside it.

vosk turns a grammar (a JSON list of phrases) into a *bigram* language model
estimated from those phrases, with backoff. So:

* phrases beat a bare word list (measured on the Korean model with espeak-ng
  commands: 11/36 exact with phrases, 4/36 with the same words as a list, 0/36
  open vocabulary), because the bigrams carry word order;
* a template set that expands to millions of sentences needs no more than a
  sample of phrases that contains every adjacent word pair the templates can
  produce: the model vosk builds from it is the same as from the full expansion;
* the backoff lets the decoder string grammar words into sentences no template
  makes ("open open on time"), which is exactly what out-of-grammar speech
  turns into. The model's unknown-word token (``[unk]``, ``<UNK>`` in Kaldi
  models) absorbs noise, but clear speech matches real words better, so the
  transcript is also checked against the grammar's word pairs: a sentence that
  uses a pair no phrase contains is rejected instead of forced onto a command.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from assistant.vocabulary import Vocabulary

_log = logging.getLogger(__name__)

UNKNOWN_TOKENS = ("[unk]", "<unk>", "<UNK>")
"""How vosk models spell the unknown word: ``[unk]`` (vosk's own), ``<UNK>``/``<unk>`` (plain Kaldi)."""

_START, _END = "<s>", "</s>"


@dataclass(frozen=True)
class Grammar:
    phrases: tuple[str, ...]
    """What vosk gets: the phrases, words no phrase contains, and the unknown token."""
    pairs: frozenset[tuple[str, str]]
    """Adjacent word pairs the phrases contain, with sentence start/end markers."""
    unknown: str | None
    missing: tuple[str, ...]
    """Vocabulary words the model cannot recognise (not in its lexicon)."""

    def to_json(self) -> str:
        return json.dumps(list(self.phrases), ensure_ascii=False)

    def accepts(self, words: Sequence[str]) -> bool:
        """Could the grammar have produced this word sequence (unknown tokens already removed)?"""
        if not words:
            return True
        path = (_START, *words, _END)
        return all(pair in self.pairs for pair in pairwise(path))


def build_grammar(vocabulary: Vocabulary, knows: Callable[[str], bool], unknown: str | None) -> Grammar:
    """The grammar for ``vocabulary`` restricted to the words the model knows (``knows(word)``)."""
    missing: set[str] = set()
    runs: list[tuple[str, ...]] = []
    for phrase in vocabulary.phrases:
        runs.extend(_known_runs(phrase.split(), knows, missing))
    covered = {w for run in runs for w in run}
    singles = []
    for word in dict.fromkeys(vocabulary.words):
        if word in covered:
            continue
        if knows(word):
            singles.append((word,))
        else:
            missing.add(word)
    runs = list(dict.fromkeys(runs))
    pairs = frozenset(_pairs(runs + singles))
    phrases = tuple(" ".join(run) for run in runs + singles) + ((unknown,) if unknown else ())
    if missing:
        _log.warning(
            "%d word(s) of the intents are not in the speech model's vocabulary and cannot be recognised: %s",
            len(missing),
            ", ".join(sorted(missing)[:20]) + (" ..." if len(missing) > 20 else ""),
        )
    return Grammar(phrases=phrases, pairs=pairs, unknown=unknown, missing=tuple(sorted(missing)))


def _known_runs(words: list[str], knows: Callable[[str], bool], missing: set[str]) -> Iterable[tuple[str, ...]]:
    """Split a phrase at words the model lacks: vosk would silently join the pieces into a false pair."""
    run: list[str] = []
    for word in words:
        if knows(word):
            run.append(word)
            continue
        missing.add(word)
        if run:
            yield tuple(run)
        run = []
    if run:
        yield tuple(run)


def _pairs(runs: Iterable[tuple[str, ...]]) -> Iterable[tuple[str, str]]:
    for run in runs:
        path = (_START, *run, _END)
        yield from pairwise(path)
