"""Closest-template matching for text no template matches exactly, and how complete a command is.

Each intent's templates become a word graph (:mod:`assistant.intents.word_graph`)
once; a query is tokenized (:mod:`assistant.intents.tokens`) and aligned against
the graphs (:mod:`assistant.intents.alignment`, where the costs are). This module
picks which graphs are worth aligning at all, and reads the graphs for
:class:`Completion`.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from assistant.intents.alignment import (
    FILLER_WORDS,
    INSERT_COST,
    INSERT_FILLER_COST,
    MERGE_COST,
    MERGE_MIN_SIMILARITY,
    MIN_SIMILARITY,
    SOUND_SIMILARITY_CAP,
    WILDCARD_WORD_COST,
    FuzzyResult,
    align,
)
from assistant.intents.template_tree import Node
from assistant.intents.tokens import is_number
from assistant.intents.word_graph import WordGraph
from assistant.phonemes import sounds


class Completion(enum.Enum):
    """How far a command has got, read off the templates (the endpointer waits less for a finished one)."""

    CLOSED = "closed"
    """A template matches it exactly, and nothing a template could add would change the intent or a slot
    ("what time is it": only "right now" may follow)."""
    OPEN = "open"
    """A template matches it exactly, but could go on with something that matters: "with milk" after
    "a large latte", a room after "turn on the light", "the timer" after "stop"."""
    PARTIAL = "partial"
    """Templates begin like this but none ends here: "set a timer for five" (a unit must follow)."""
    NONE = "none"
    """No template begins with these words."""


class FuzzyMatcher:
    """Word graphs of a set of intents (one per intent) and the search over them.

    Per query, one vectorised edit-distance table (heard words × template
    vocabulary) gives every substitution cost and, per intent, a lower bound
    on its alignment cost (each heard word costs at least its best match or
    its insertion). Intents are aligned best bound first and an intent whose
    bound exceeds the best cost found so far is not searched at all.
    """

    def __init__(self, templates: Mapping[str, tuple[Node, ...]]) -> None:
        """``templates``: intent name → its template trees."""
        self._graphs = [WordGraph(intent, trees) for intent, trees in templates.items()]
        self._vocab = sorted({w for g in self._graphs for w in g.words})
        self._sounds = sounds(self._vocab)
        self._soundless = np.array([not s for s in self._sounds], dtype=bool)
        index = {w: i for i, w in enumerate(self._vocab)}
        self._columns = [np.array(sorted(index[w] for w in g.words), dtype=np.intp) for g in self._graphs]
        self._number_columns = np.array([is_number(w) for w in self._vocab], dtype=bool)

    @property
    def size(self) -> int:
        """Arcs in all graphs: the work per heard word when nothing can be pruned."""
        return sum(g.size for g in self._graphs)

    def match(self, tokens: list[str], max_cost: float = math.inf) -> FuzzyResult | None:
        """The cheapest alignment of ``tokens`` (see :func:`~assistant.intents.tokens.tokenize`) with any template path."""
        if not tokens or not self._graphs:
            return None
        costs = self._substitution_costs(tokens)
        pairs = [a + b if not (is_number(a) or is_number(b)) else "#" for a, b in itertools.pairwise(tokens)]
        merged = self._substitution_costs(pairs, MERGE_MIN_SIMILARITY) if pairs else np.ones((0, len(self._vocab)))
        subs = [_close_words(row, self._vocab) for row in costs]
        merges = [_close_words(row, self._vocab) for row in merged]
        inserts = np.array([INSERT_FILLER_COST if t in FILLER_WORDS else INSERT_COST for t in tokens])
        numbers = np.array([is_number(t) for t in tokens])
        bounds = []
        for graph, columns in zip(self._graphs, self._columns, strict=True):
            per_token = np.minimum(inserts, costs[:, columns].min(axis=1, initial=1.0))
            if len(pairs):  # a merged pair costs at least half its merge cost per word
                half = (merged[:, columns].min(axis=1, initial=1.0) + MERGE_COST) / 2
                per_token[:-1] = np.minimum(per_token[:-1], half)
                per_token[1:] = np.minimum(per_token[1:], half)
            if graph.has_range:
                per_token[numbers] = 0.0
            if graph.has_any:
                per_token = np.minimum(per_token, WILDCARD_WORD_COST)
            bounds.append(float(per_token.sum()))
        best: FuzzyResult | None = None
        for i in np.argsort(bounds, kind="stable"):
            if bounds[i] > max_cost:
                break
            found = align(self._graphs[i], tokens, subs, merges, max_cost)
            if found is not None and (best is None or found.cost < best.cost):
                best = found
                max_cost = found.cost
        return best

    def completion(self, readings: list[list[str]]) -> Completion:
        """Whether the templates read exactly along ``readings`` (token lists of one utterance, e.g. with and
        without skip words) end there, and whether they could continue with more information."""
        live = complete = extendable = False
        for graph in self._graphs:
            reached = set().union(*(graph.reach(tokens) for tokens in readings))
            if not reached:
                continue
            live = True
            ends = bool(reached & graph.finals)
            complete |= ends
            extendable |= not ends or any(graph.informative[u] for u in reached)
        if complete:
            return Completion.OPEN if extendable else Completion.CLOSED
        return Completion.PARTIAL if live else Completion.NONE

    def _substitution_costs(self, tokens: list[str], min_similarity: float = MIN_SIMILARITY) -> np.ndarray:
        """Heard words × template vocabulary: 1 − similarity, 1 for words too unlike to count. The similarity
        is the closer of spelling and sound (:mod:`assistant.phonemes`): "holder" is half "whole" in letters,
        most of it in sounds; a typed "latet" is "latte" in letters only."""
        sims = process.cdist(tokens, self._vocab, scorer=Levenshtein.normalized_similarity, dtype=np.float32)
        heard = sounds(tokens)
        by_sound = process.cdist(heard, self._sounds, scorer=Levenshtein.normalized_similarity, dtype=np.float32)
        by_sound[[not s for s in heard]] = 0.0  # "" is like "": a word without sounds is like nothing
        by_sound[:, self._soundless] = 0.0
        np.minimum(by_sound, SOUND_SIMILARITY_CAP, out=by_sound)
        np.maximum(sims, by_sound, out=sims)
        for row, token in enumerate(tokens):  # numbers are either right or wrong
            if is_number(token):
                sims[row] = [w == token for w in self._vocab]
            else:
                sims[row, self._number_columns] = 0.0
        return np.where(sims >= min_similarity, 1.0 - sims, 1.0)


def _close_words(costs: np.ndarray, vocab: list[str]) -> dict[str, float]:
    """The template words a heard word could be (cost below 1), as a dict for the inner loop."""
    return {vocab[k]: float(costs[k]) for k in np.flatnonzero(costs < 1.0)}
