"""Training the second layer (``model.py``) on the development corpus: ``servicehall conduct train``.

Only ``development.tsv`` and the seeds' own prescribed phrases (``phrases.json``, every one labelled
correct) are read; the held-out part is never opened here, so its score stays a fair check.

1. Features: how often each character 1-, 2- and 3-gram occurs in each folded utterance (traditional
   folded to simplified, clauses between marks), for the n-grams found in at least ``MIN_COUNT``
   utterances.
2. Forbidden or not: L2-regularised logistic regression, full-batch Adam for a fixed number of steps
   from zero weights, so the same corpus gives the same weights.
3. Category: the same on the forbidden utterances alone, one softmax over the six categories.
4. Threshold: leave-one-section-out cross-validation (each batch of the corpus is scored by a model
   trained without it, as a new batch of wording would be); the lowest threshold on the grid whose
   pooled cross-validated precision reaches ``MIN_CROSS_VALIDATED_PRECISION`` is kept. The figures go
   into the model file.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from servicehall.conduct.checker import MODEL_PATH, PHRASES_PATH, phrases_data, rules_only_ruleset
from servicehall.conduct.engine import CATEGORIES
from servicehall.conduct.evaluation import CLEAN_LABEL, CORPUS_DIRECTORY, CORPUS_PARTS, corpus_part
from servicehall.conduct.model import CLAUSE_MARK, logistic, marked_text, ngrams

MIN_COUNT = 2
L2_STRENGTH = 1.0
LEARNING_RATE = 0.05
STEPS = 300
THRESHOLD_GRID = tuple(round(0.5 + 0.05 * step, 2) for step in range(10))
MIN_CROSS_VALIDATED_PRECISION = 0.96
WEIGHT_DIGITS = 4
# Where a category's civil phrases come from (``phrases.json`` situations).
CATEGORY_SITUATIONS = {
    "推诿": "无法回答",
    "冷漠": "来访咨询",
    "催促": "请对方等候",
    "顶撞/训斥": "受到批评",
    "讥讽": "误解或出言不逊",
    "粗俗": "误解或出言不逊",
}
MODEL_SEEDS = ("seed 000 一、服务用语 9", "seed 001 五、禁忌用语", "seed 002 附录B", "seed 003 文明服务禁语")
SEED_PHRASES_SECTION = "seed-phrases"


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # "ok" or a category
    section: str


def examples() -> list[Example]:
    rows = [
        Example(utterance.text, utterance.label, utterance.section)
        for utterance in corpus_part("development")
    ]
    for situation in phrases_data()["situations"]:
        for phrase in situation["phrases"]:
            rows.append(Example(phrase["text"], CLEAN_LABEL, SEED_PHRASES_SECTION))
    return rows


def corpus_fingerprint() -> str:
    """sha256 of what the model is trained on: the development corpus and the prescribed phrases."""
    digest = hashlib.sha256()
    digest.update((CORPUS_DIRECTORY / CORPUS_PARTS["development"]).read_bytes())
    digest.update(PHRASES_PATH.read_bytes())
    return digest.hexdigest()


class Design:
    """The utterances' n-gram counts as a sparse matrix: one column index per occurrence."""

    def __init__(self, grams: Sequence[list[str]], vocabulary: dict[str, int]) -> None:
        columns: list[int] = []
        rows: list[int] = []
        for row, row_grams in enumerate(grams):
            for gram in row_grams:
                column = vocabulary.get(gram)
                if column is not None:
                    columns.append(column)
                    rows.append(row)
        self.columns = np.array(columns, dtype=np.int64)
        self.rows = np.array(rows, dtype=np.int64)
        self.row_count = len(grams)
        self.column_count = len(vocabulary)

    def times(self, weights: np.ndarray) -> np.ndarray:
        """X @ W for W of shape (columns, k)."""
        return _sums(self.rows, self.row_count, weights[self.columns])

    def transposed_times(self, residuals: np.ndarray) -> np.ndarray:
        """Xᵀ @ R for R of shape (rows, k)."""
        return _sums(self.columns, self.column_count, residuals[self.rows])


def _sums(groups: np.ndarray, length: int, values: np.ndarray) -> np.ndarray:
    """Column by column, the sums of ``values`` grouped by ``groups`` (0 … length − 1)."""
    return np.stack(
        [np.bincount(groups, weights=values[:, k], minlength=length) for k in range(values.shape[1])], axis=1
    )


def _vocabulary(grams: Sequence[list[str]]) -> dict[str, int]:
    counts = Counter(gram for row_grams in grams for gram in set(row_grams))
    counts.pop(CLAUSE_MARK, None)
    return {
        gram: index
        for index, gram in enumerate(sorted(gram for gram, count in counts.items() if count >= MIN_COUNT))
    }


def _fit(design: Design, targets: np.ndarray, softmax: bool) -> tuple[np.ndarray, np.ndarray]:
    """Weights (columns, k) and bias (k,) by full-batch Adam on the regularised log loss."""
    classes = targets.shape[1]
    weights = np.zeros((design.column_count, classes))
    bias = np.zeros(classes)
    moment_weights = np.zeros_like(weights)
    square_weights = np.zeros_like(weights)
    moment_bias = np.zeros_like(bias)
    square_bias = np.zeros_like(bias)
    count = design.row_count
    for step in range(1, STEPS + 1):
        logits = design.times(weights) + bias
        if softmax:
            logits -= logits.max(axis=1, keepdims=True)
            probabilities = np.exp(logits)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        else:
            probabilities = 1.0 / (1.0 + np.exp(-logits))
        residuals = probabilities - targets
        gradient = design.transposed_times(residuals) / count + L2_STRENGTH * weights / count
        gradient_bias = residuals.mean(axis=0)
        moment_weights = 0.9 * moment_weights + 0.1 * gradient
        square_weights = 0.999 * square_weights + 0.001 * gradient * gradient
        moment_bias = 0.9 * moment_bias + 0.1 * gradient_bias
        square_bias = 0.999 * square_bias + 0.001 * gradient_bias * gradient_bias
        rate = LEARNING_RATE * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
        weights -= rate * moment_weights / (np.sqrt(square_weights) + 1e-8)
        bias -= rate * moment_bias / (np.sqrt(square_bias) + 1e-8)
    return weights, bias


def _fit_forbidden(grams: Sequence[list[str]], forbidden: np.ndarray) -> tuple[dict[str, float], float]:
    vocabulary = _vocabulary(grams)
    weights, bias = _fit(Design(grams, vocabulary), forbidden.reshape(-1, 1).astype(float), softmax=False)
    return {gram: float(weights[index, 0]) for gram, index in vocabulary.items()}, float(bias[0])


def _score(weights: dict[str, float], bias: float, row_grams: list[str]) -> float:
    return logistic(bias + sum(weights.get(gram, 0.0) for gram in row_grams))


def cross_validate(
    rows: Sequence[Example], grams: Sequence[list[str]], forbidden: np.ndarray
) -> list[dict[str, Any]]:
    """Pooled leave-one-section-out precision and recall at each threshold of the grid."""
    scores = np.zeros(len(rows))
    for section in dict.fromkeys(row.section for row in rows):
        inside = np.array([row.section == section for row in rows])
        train = [gram for gram, held in zip(grams, inside, strict=True) if not held]
        weights, bias = _fit_forbidden(train, forbidden[~inside])
        for index in np.flatnonzero(inside):
            scores[index] = _score(weights, bias, grams[index])
    results = []
    for threshold in THRESHOLD_GRID:
        predicted = scores >= threshold
        true_positives = int((predicted & forbidden).sum())
        false_positives = int((predicted & ~forbidden).sum())
        false_negatives = int((~predicted & forbidden).sum())
        flagged = true_positives + false_positives
        results.append(
            {
                "threshold": threshold,
                "precision": round(true_positives / flagged if flagged else 1.0, 3),
                "recall": round(true_positives / (true_positives + false_negatives), 3),
                "false_positives": false_positives,
            }
        )
    return results


def choose_threshold(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    for result in results:
        if result["precision"] >= MIN_CROSS_VALIDATED_PRECISION:
            return result
    return results[-1]


def train() -> dict[str, Any]:
    """The model file's content, trained from the current corpus."""
    normaliser = rules_only_ruleset().normaliser
    rows = examples()
    grams = [ngrams(marked_text(normaliser.fold(row.text))) for row in rows]
    forbidden = np.array([row.label != CLEAN_LABEL for row in rows])
    grid = cross_validate(rows, grams, forbidden)
    chosen = choose_threshold(grid)
    weights, bias = _fit_forbidden(grams, forbidden)

    categories = [category for category in CATEGORIES if any(row.label == category for row in rows)]
    forbidden_grams = [gram for gram, row in zip(grams, rows, strict=True) if row.label != CLEAN_LABEL]
    category_vocabulary = _vocabulary(forbidden_grams)
    targets = np.zeros((len(forbidden_grams), len(categories)))
    for index, row in enumerate(row for row in rows if row.label != CLEAN_LABEL):
        targets[index, categories.index(row.label)] = 1.0
    category_weights, category_bias = _fit(
        Design(forbidden_grams, category_vocabulary), targets, softmax=True
    )

    def rounded(value: float) -> float:
        return round(float(value), WEIGHT_DIGITS)

    return {
        "version": corpus_fingerprint()[:16],
        "about": (
            "字符 n 元逻辑回归模型，由 servicehall conduct train 从开发语料训练，勿手工编辑 / "
            "character n-gram logistic model trained on the development corpus by `servicehall conduct train`; "
            "do not edit by hand"
        ),
        "trained_on": {
            "sha256": corpus_fingerprint(),
            "utterances": len(rows),
            "forbidden": int(forbidden.sum()),
        },
        "seeds": list(MODEL_SEEDS),
        "threshold": chosen["threshold"],
        "cross_validation": {
            "method": "leave one corpus section out",
            "min_precision": MIN_CROSS_VALIDATED_PRECISION,
            "chosen": chosen,
            "grid": grid,
        },
        "bias": rounded(bias),
        "weights": {
            gram: rounded(weight) for gram, weight in sorted(weights.items()) if rounded(weight) != 0.0
        },
        "categories": categories,
        "category_bias": [rounded(value) for value in category_bias],
        "category_weights": {
            gram: [rounded(value) for value in category_weights[index]]
            for gram, index in sorted(category_vocabulary.items())
            if any(rounded(value) != 0.0 for value in category_weights[index])
        },
        "category_situations": {category: CATEGORY_SITUATIONS[category] for category in categories},
    }


def write_model(data: dict[str, Any], path: Path = MODEL_PATH) -> None:
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=0, separators=(",", ":")) + "\n", encoding="utf-8"
    )
