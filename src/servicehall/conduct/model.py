"""The checker's second layer (统计模型): a character n-gram model trained on the development corpus.

The rules (``engine.py``) catch the seeds' phrases and the variants someone thought of; measured on
batches written after them, they caught between 40 % and 70 % of new wording on first sight (the
corpus headers keep each batch's first score). The model catches the rest by resemblance: every
character 1-, 2- and 3-gram of the utterance has a learned weight, the sum over its n-grams is a logistic score, and
an utterance the rules let through is reported when the score passes the threshold that the training
chose by cross-validation (``training.py``, ADR 0010).

A model finding is one ``Finding`` like a rule's, with the rule id ``model.<category>``, severity 1 (the
lowest: a resemblance is not proof, and alone it never meets the violation threshold), the clause that
scored highest as its span, the category from a second set of weights, and that category's civil
phrases. It runs only where no rule found anything, so it never changes what the rules report.

Pure Python at check time: the weights are dictionaries read from ``model.json``, a reviewed data file
that ``servicehall conduct train`` rebuilds from the corpus.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add
from typing import Any

from servicehall.conduct.engine import CATEGORIES, Finding, RuleDataError

MODEL_RULE_PREFIX = "model."
MODEL_SEVERITY = 1
NGRAM_SIZES = (1, 2, 3)
CLAUSE_MARK = "|"
# Runs of anything but letters and digits (punctuation, spaces, emoji) end a clause.
CLAUSE_BREAK = re.compile(r"[\W_]+")
# The corpus's utterances are all shorter; a longer text is scored sentence by sentence.
WHOLE_TEXT_MAX_CHARACTERS = 400
SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
# The model has only seen Chinese: a text without a single ideograph ("ok", "123", emoji) is not its to judge.
IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def clauses_of(folded: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the clauses of a folded text: the runs between punctuation."""
    spans = []
    position = 0
    for separator in CLAUSE_BREAK.finditer(folded):
        if separator.start() > position:
            spans.append((position, separator.start()))
        position = separator.end()
    if position < len(folded):
        spans.append((position, len(folded)))
    return spans


def marked_text(folded: str) -> str:
    """The text the n-grams are taken from: lower case, each clause between clause marks."""
    inner = CLAUSE_BREAK.sub(CLAUSE_MARK, folded.lower()).strip(CLAUSE_MARK)
    return f"{CLAUSE_MARK}{inner}{CLAUSE_MARK}"


def ngrams(marked: str) -> list[str]:
    """Every 1-, 2- and 3-gram of a marked text, repeats included (the model counts them); the lone
    clause mark has no weight."""
    bigrams = list(map(add, marked, marked[1:]))
    return [*marked, *bigrams, *map(add, bigrams, marked[2:])]


def logistic(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exponential = math.exp(value)
    return exponential / (1.0 + exponential)


@dataclass(frozen=True)
class ModelSuggestion:
    situation: str
    suggestion: str
    suggestions: tuple[str, ...]


class PhraseModel:
    """The trained weights; ``finding`` is safe to call from many threads (nothing is mutated)."""

    def __init__(self, data: Mapping[str, Any], situations: Mapping[str, Sequence[str]]) -> None:
        try:
            self.version = str(data["version"])
            self.bias = float(data["bias"])
            self.threshold = float(data["threshold"])
            self.weights: dict[str, float] = {
                str(gram): float(weight) for gram, weight in data["weights"].items()
            }
            categories = tuple(data["categories"])
            self.category_bias = tuple(float(value) for value in data["category_bias"])
            self.category_weights: dict[str, tuple[float, ...]] = {
                str(gram): tuple(float(value) for value in values)
                for gram, values in data["category_weights"].items()
            }
            category_situations = dict(data["category_situations"])
            self.seeds = tuple(str(seed) for seed in data.get("seeds", ()))
        except (KeyError, TypeError, ValueError) as error:
            raise RuleDataError(f"模型数据不完整 / model data incomplete: {error}") from error
        if not 0.0 < self.threshold < 1.0:
            raise RuleDataError(f"模型阈值须在 0 与 1 之间 / threshold must be in (0, 1): {self.threshold}")
        if set(categories) - set(CATEGORIES) or len(categories) != len(self.category_bias):
            raise RuleDataError(f"模型类别无效 / unknown model categories: {categories}")
        if any(len(values) != len(categories) for values in self.category_weights.values()):
            raise RuleDataError("模型类别权重长度不符 / category weights of the wrong length")
        self.categories: tuple[str, ...] = categories
        self.suggestions: dict[str, ModelSuggestion] = {}
        for category in categories:
            situation = category_situations.get(category, "")
            phrases = tuple(situations.get(situation, ()))
            if not phrases:
                raise RuleDataError(
                    f"模型类别 {category} 没有可用的规范用语情形 / no situation with phrases for {category}"
                )
            self.suggestions[category] = ModelSuggestion(situation, phrases[0], phrases)
        self.cross_validation: dict[str, Any] = dict(data.get("cross_validation", {}))
        self.trained_on: dict[str, Any] = dict(data.get("trained_on", {}))

    def score(self, folded: str) -> float:
        """The probability that the text is forbidden language (0 … 1)."""
        return logistic(self.bias + sum(map(self.weights.get, ngrams(marked_text(folded)), repeat(0.0))))

    def category(self, folded: str) -> str:
        totals = list(self.category_bias)
        table = self.category_weights
        for gram in ngrams(marked_text(folded)):
            values = table.get(gram)
            if values is not None:
                for index, value in enumerate(values):
                    totals[index] += value
        return self.categories[max(range(len(totals)), key=totals.__getitem__)]

    def _strongest_clause(self, folded: str) -> tuple[int, int]:
        weights = self.weights
        best: tuple[float, int, int] | None = None
        for start, end in clauses_of(folded):
            total = sum(map(weights.get, ngrams(marked_text(folded[start:end])), repeat(0.0)))
            if best is None or total > best[0]:
                best = (total, start, end)
        return (best[1], best[2]) if best is not None else (0, len(folded))

    def finding(self, original: str, folded: str) -> Finding | None:
        """A finding when the text's score passes the threshold; ``folded`` is as long as ``original``
        (``Normaliser.fold``), so the offsets are offsets into the original.

        A text as long as the utterances the model learned from is scored whole. A longer one (a
        long web reply, a pasted page) is scored sentence by sentence, and the worst sentence is the
        finding: one curt sentence in a long polite reply is not averaged away, and the work stays
        proportional to the text however long it is.
        """
        if IDEOGRAPH.search(folded) is None:
            return None
        best: tuple[float, int, int] | None = None
        for start, end in self._pieces(folded):
            probability = self.score(folded[start:end])
            if probability >= self.threshold and (best is None or probability > best[0]):
                best = (probability, start, end)
        if best is None:
            return None
        probability, piece_start, piece_end = best
        piece = folded[piece_start:piece_end]
        category = self.category(piece)
        clause_start, clause_end = self._strongest_clause(piece)
        start, end = piece_start + clause_start, piece_start + clause_end
        suggestion = self.suggestions[category]
        return Finding(
            start=start,
            end=end,
            text=original[start:end],
            rule_id=f"{MODEL_RULE_PREFIX}{category}",
            title=f"疑似{category}用语（统计模型 {probability:.2f}）",
            category=category,
            severity=MODEL_SEVERITY,
            situation=suggestion.situation,
            suggestion=suggestion.suggestion,
            suggestions=suggestion.suggestions,
            seeds=self.seeds,
        )

    @staticmethod
    def _pieces(folded: str) -> list[tuple[int, int]]:
        if len(folded) <= WHOLE_TEXT_MAX_CHARACTERS:
            return [(0, len(folded))]
        pieces = []
        position = 0
        for separator in SENTENCE_END.finditer(folded):
            pieces.extend(_windows(position, separator.start()))
            position = separator.end()
        pieces.extend(_windows(position, len(folded)))
        return pieces


def _windows(start: int, end: int) -> list[tuple[int, int]]:
    """A sentence cut into pieces of at most WHOLE_TEXT_MAX_CHARACTERS (a run without any full stop)."""
    return [
        (position, min(end, position + WHOLE_TEXT_MAX_CHARACTERS))
        for position in range(start, end, WHOLE_TEXT_MAX_CHARACTERS)
    ]
