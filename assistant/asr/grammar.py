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
  transcript is also checked against the phrases' word pairs: when more than a
  third of its pairs occur in no phrase, it is rejected instead of forced onto
  a command. Measured: that rejects 15 of 16 out-of-grammar Korean sentences
  (each turned into grammar words by the decoder), and accepts every sentence
  of the coffee grammar even when the phrases are a random sample that misses
  pairs (the intent engine's 1542-phrase sample leaves up to 3 of 10 pairs of
  a true sentence unseen; demanding all pairs would reject 65 % of them).
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

MAX_UNSEEN_PAIRS = (1, 3)
"""A transcript may have up to this share (1/3) of word pairs that no phrase contains."""


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
        """Is this word sequence (unknown tokens removed) one the phrases can make, give or take a third of its pairs?"""
        if not words:
            return True
        pairs = list(pairwise((_START, *words, _END)))
        unseen = sum(pair not in self.pairs for pair in pairs)
        return unseen * MAX_UNSEEN_PAIRS[1] <= len(pairs) * MAX_UNSEEN_PAIRS[0]


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
