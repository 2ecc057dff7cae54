"""The labelled corpus and the measured quality: precision ≥ 0.95 and recall ≥ 0.90 where the rules were
developed, and the held-out figures (never tuned on) kept honest beside them."""

from __future__ import annotations

from servicehall.conduct.checker import base_ruleset, rules_only_ruleset
from servicehall.conduct.evaluation import (
    CLEAN_LABEL,
    CORPUS_DIRECTORY,
    CORPUS_PARTS,
    SECTION_MARKER,
    corpus_part,
    evaluate,
    evaluate_by_section,
)


def test_corpus_is_large_labelled_both_ways_and_a_quarter_held_out() -> None:
    development, heldout = corpus_part("development"), corpus_part("heldout")
    everything = development + heldout
    assert len(everything) >= 400
    assert len(heldout) / len(everything) >= 0.25
    for part in (development, heldout):
        labels = {utterance.label for utterance in part}
        assert CLEAN_LABEL in labels
        assert len(labels) == 7
    # no utterance is in both parts
    assert not {utterance.text for utterance in development} & {utterance.text for utterance in heldout}


def test_development_part_meets_the_targets() -> None:
    result = evaluate(base_ruleset(), corpus_part("development"), "development")
    assert result.precision >= 0.95
    assert result.recall >= 0.90


def test_heldout_written_before_the_rules_meets_the_targets() -> None:
    sections = {result.part: result for result in evaluate_by_section(base_ruleset(), "heldout")}
    before = sections["heldout/before-rules"]
    assert (before.precision >= 0.95, before.recall >= 0.90) == (True, True)


def test_heldout_precision_holds_on_wording_written_after_the_rules() -> None:
    # Recall on wording nobody anticipated is what it is (reported by `servicehall conduct evaluate` and
    # in the section headers: blind-4 scored once at 0.522); what must hold is that polite speech is not
    # flagged.
    sections = {result.part: result for result in evaluate_by_section(base_ruleset(), "heldout")}
    assert sections["heldout/after-rules"].precision >= 0.95
    assert sections["heldout/blind-4"].precision >= 0.95
    assert sections["heldout"].precision >= 0.95


def test_heldout_meets_the_targets_with_the_model_and_the_model_adds_recall_without_losing_precision() -> (
    None
):
    # The model (model.py) is trained on the development part alone and its threshold is chosen by
    # cross-validation inside it (training.py), so the held-out part stays a fair check.
    with_model = evaluate(base_ruleset(), corpus_part("heldout"), "heldout")
    rules_only = evaluate(rules_only_ruleset(), corpus_part("heldout"), "heldout")
    assert (with_model.precision >= 0.95, with_model.recall >= 0.90) == (True, True)
    assert with_model.recall > rules_only.recall
    assert with_model.precision >= rules_only.precision - 0.01


def test_every_batch_written_after_the_first_rules_records_its_first_untouched_score() -> None:
    # The honest record: a batch tuned on keeps, in its header, the score it had before any tuning.
    for part in ("development", "heldout"):
        text = (CORPUS_DIRECTORY / CORPUS_PARTS[part]).read_text(encoding="utf-8")
        headers = [line for line in text.splitlines() if line.startswith(SECTION_MARKER)]
        for header in headers:
            if "fresh" in header or "blind" in header or "after-rules" in header:
                assert "recall 0." in header, header
