"""Benchmark: the civil-language checker against a naive regex alternation, side by side, on one core.

    .venv/bin/python bench/conduct.py [--utterances 200000] [--repeats 5] [--core 0]

Both sides get the same normalised text (traditional → simplified, no punctuation, spaces or fillers):
the comparison is of the matching. The baseline is what one writes first: every pattern of every rule
turned into one big ``re`` alternation (gaps as ``.{0,N}``, any-order parts as both orders), run with
``finditer``; it has no guards, so it also shows what the guards are for (its precision is printed).
The checker is called through its public Python API, ``servicehall.conduct.checker.check``, one
utterance at a time. Runs alternate between the two so that a noisy machine (2 cores shared with
others) weighs on both alike; medians are printed, and last one JSON line with the figures and the
target (50,000 short utterances per second on one core).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from servicehall.conduct.checker import base_ruleset, check  # noqa: E402
from servicehall.conduct.engine import Pattern, RuleSet  # noqa: E402
from servicehall.conduct.evaluation import corpus_part  # noqa: E402

TARGET_UTTERANCES_PER_SECOND = 50_000


def _part_expression(alternatives: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(alternative) for alternative in alternatives) + ")"


def _pattern_expressions(pattern: Pattern) -> list[str]:
    if pattern.ordered:
        pieces = [_part_expression(pattern.parts[0].alternatives)]
        for part in pattern.parts[1:]:
            pieces.append(f".{{0,{part.gap_before}}}" + _part_expression(part.alternatives))
        return ["".join(pieces)]
    expressions = []
    for order in itertools.permutations(pattern.parts):
        expressions.append(
            f".{{0,{pattern.within}}}".join(_part_expression(part.alternatives) for part in order)
        )
    return expressions


def naive_checker(ruleset: RuleSet) -> Callable[[str], list[tuple[int, int]]]:
    """One alternation over all patterns, no automaton, no guards; normalisation shared with the checker."""
    expressions = [
        expression
        for rule in ruleset.rules
        for pattern in rule.patterns
        for expression in _pattern_expressions(pattern)
    ]
    alternation = re.compile("|".join(expressions))
    normaliser = ruleset.normaliser

    def naive(text: str) -> list[tuple[int, int]]:
        compact = normaliser.normalise(text).compact
        return [match.span() for match in alternation.finditer(compact)]

    return naive


def _throughput(function: Callable[[str], object], texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        function(text)
    return len(texts) / (time.perf_counter() - started)


def _quality(flagged: Callable[[str], bool]) -> tuple[float, float]:
    utterances = corpus_part("development") + corpus_part("heldout")
    true_positives = sum(1 for item in utterances if item.forbidden and flagged(item.text))
    false_positives = sum(1 for item in utterances if not item.forbidden and flagged(item.text))
    forbidden = sum(1 for item in utterances if item.forbidden)
    return true_positives / max(1, true_positives + false_positives), true_positives / max(1, forbidden)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utterances", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--core", type=int, default=0, help="CPU to pin to (Linux)")
    arguments = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {arguments.core})
    ruleset = base_ruleset()
    naive = naive_checker(ruleset)
    corpus = [item.text for item in corpus_part("development") + corpus_part("heldout")]
    clean = [item.text for item in corpus_part("development") + corpus_part("heldout") if not item.forbidden]
    workloads = {
        "corpus mix (55% forbidden)": list(itertools.islice(itertools.cycle(corpus), arguments.utterances)),
        "polite only": list(itertools.islice(itertools.cycle(clean), arguments.utterances)),
    }
    mean_length = statistics.mean(len(text) for text in corpus)
    print(f"rules: {len(ruleset.rules)}, patterns: {sum(len(rule.patterns) for rule in ruleset.rules)}")
    print(
        f"utterances per run: {arguments.utterances} (mean {mean_length:.1f} characters), repeats: {arguments.repeats}"
    )
    print(
        f"pinned to CPU {arguments.core}; load average {os.getloadavg()[0]:.2f}"
        if hasattr(os, "getloadavg")
        else ""
    )
    precision, recall = _quality(lambda text: bool(check(text)))
    naive_precision, naive_recall = _quality(lambda text: bool(naive(text)))
    print(
        f"quality on the whole corpus: checker P={precision:.3f} R={recall:.3f}; "
        f"naive alternation P={naive_precision:.3f} R={naive_recall:.3f}"
    )
    figures: dict[str, dict[str, float]] = {}
    for name, texts in workloads.items():
        ours: list[float] = []
        theirs: list[float] = []
        for _repeat in range(arguments.repeats):
            ours.append(_throughput(check, texts))
            theirs.append(_throughput(naive, texts))
        ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
        print(f"\n{name}")
        print(
            f"  checker (Aho-Corasick + guards): median {ours_median:>10,.0f} utterances/s  "
            f"(runs: {', '.join(f'{value:,.0f}' for value in ours)})"
        )
        print(
            f"  naive regex alternation:         median {theirs_median:>10,.0f} utterances/s  "
            f"(runs: {', '.join(f'{value:,.0f}' for value in theirs)})"
        )
        print(f"  ratio checker / naive: {ours_median / theirs_median:.1f}×")
        figures[name] = {
            "checker_median_per_second": round(ours_median),
            "naive_median_per_second": round(theirs_median),
            "ratio": round(ours_median / theirs_median, 2),
        }
    slowest = min(figure["checker_median_per_second"] for figure in figures.values())
    print(
        f"\nslowest checker median {slowest:,.0f} utterances/s; target {TARGET_UTTERANCES_PER_SECOND:,}: "
        f"{'met' if slowest >= TARGET_UTTERANCES_PER_SECOND else 'NOT met'}"
    )
    summary = {
        "benchmark": "conduct",
        "rules": len(ruleset.rules),
        "patterns": sum(len(rule.patterns) for rule in ruleset.rules),
        "utterances_per_run": arguments.utterances,
        "repeats": arguments.repeats,
        "mean_characters": round(mean_length, 1),
        "workloads": figures,
        "quality": {
            "checker_precision": round(precision, 3),
            "checker_recall": round(recall, 3),
            "naive_precision": round(naive_precision, 3),
            "naive_recall": round(naive_recall, 3),
        },
        "target_utterances_per_second": TARGET_UTTERANCES_PER_SECOND,
        "slowest_checker_median_per_second": slowest,
        "meets_target": slowest >= TARGET_UTTERANCES_PER_SECOND,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
