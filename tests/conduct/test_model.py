"""The checker's second layer (model.py, training.py): trained on the development corpus only, lower
severity than any rule, never judging what the rules already judged."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from servicehall.conduct import training
from servicehall.conduct.actions import threshold_met
from servicehall.conduct.checker import (
    MODEL_PATH,
    base_ruleset,
    check,
    phrase_model,
    phrases_data,
    rules_only_ruleset,
    situation_phrases,
)
from servicehall.conduct.engine import CATEGORIES, RuleDataError
from servicehall.conduct.model import MODEL_SEVERITY, PhraseModel

# A dialect refusal no reviewed rule lists (粤语 唔知 = 不知道).
UNLISTED_REFUSAL = "唔知，你问下别人"


def _model_data() -> dict:
    return json.loads(MODEL_PATH.read_text(encoding="utf-8"))


def test_model_file_was_trained_on_the_current_development_corpus() -> None:
    output = io.StringIO()
    call_command("conduct", "train", "--check", stdout=output)
    assert "model.json 与语料一致" in output.getvalue()
    assert _model_data()["trained_on"]["sha256"] == training.corpus_fingerprint()


def test_check_refuses_a_model_trained_on_another_corpus(tmp_path: Path, monkeypatch) -> None:
    stale = _model_data()
    stale["trained_on"]["sha256"] = "0" * 64
    path = tmp_path / "model.json"
    path.write_text(json.dumps(stale, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(training, "MODEL_PATH", path)
    with pytest.raises(CommandError, match="servicehall conduct train"):
        call_command("conduct", "train", "--check", stdout=io.StringIO())


def test_training_reproduces_the_committed_model_and_never_reads_the_heldout_part(monkeypatch) -> None:
    # given the held-out part cannot be opened
    real_corpus_part = training.corpus_part

    def development_only(part: str):
        assert part == "development", part
        return real_corpus_part(part)

    monkeypatch.setattr(training, "corpus_part", development_only)
    # when the model is trained again
    data = training.train()
    # then it is the committed model: the same threshold chosen by cross-validation, the same weights
    committed = _model_data()
    assert data["threshold"] == committed["threshold"]
    assert data["cross_validation"] == committed["cross_validation"]
    assert data["weights"].keys() == committed["weights"].keys()
    assert max(abs(data["weights"][gram] - committed["weights"][gram]) for gram in data["weights"]) < 1e-3
    assert data["categories"] == committed["categories"]


def test_threshold_is_the_lowest_whose_cross_validated_precision_reaches_the_floor() -> None:
    cross_validation = _model_data()["cross_validation"]
    grid = cross_validation["grid"]
    chosen = cross_validation["chosen"]
    assert chosen["precision"] >= training.MIN_CROSS_VALIDATED_PRECISION
    lower = [result for result in grid if result["threshold"] < chosen["threshold"]]
    assert all(result["precision"] < training.MIN_CROSS_VALIDATED_PRECISION for result in lower)
    assert phrase_model().threshold == chosen["threshold"]


def test_unlisted_refusal_is_a_model_finding_of_the_lowest_severity_with_the_civil_phrase() -> None:
    # given the reviewed rules alone let it through
    assert rules_only_ruleset().check(UNLISTED_REFUSAL) == []
    # when the full checker reads it
    (finding,) = check(UNLISTED_REFUSAL)
    # then the model reports it as a resemblance, with a span inside the text and a prescribed phrase
    assert finding.rule_id == "model.推诿"
    assert (finding.category, finding.severity) == ("推诿", MODEL_SEVERITY)
    assert UNLISTED_REFUSAL[finding.start : finding.end] == finding.text == "唔知"
    assert finding.suggestion in situation_phrases()["无法回答"]
    assert finding.title.startswith("疑似推诿用语（统计模型 ")
    # and a resemblance alone never meets the violation threshold
    assert threshold_met([finding]) is False


def test_rule_findings_are_left_as_they_are() -> None:
    for text in ("不知道，你问别人去", "墙上贴着呢，自己看去", "这事不归我管"):
        assert base_ruleset().check(text) == rules_only_ruleset().check(text)
        assert all(not finding.rule_id.startswith("model.") for finding in check(text))


@pytest.mark.parametrize(
    "text",
    [
        "对不起，这个我不太清楚，请稍等，我帮您问一下别的同志",
        "您不知道怎么填没关系，我教您",
        "您好，请问您要办理什么业务？",
        "请您在这边稍等一下，叫到您的号再过来。",
    ],
)
def test_civil_language_is_not_flagged(text: str) -> None:
    assert check(text) == []


def test_no_prescribed_phrase_of_the_seeds_is_flagged() -> None:
    flagged = [
        phrase["text"]
        for situation in phrases_data()["situations"]
        for phrase in situation["phrases"]
        if check(phrase["text"])
    ]
    assert flagged == []


@pytest.mark.parametrize("text", ["ok", "123", "😀", "last", "   ", "", "A023"])
def test_text_without_chinese_is_not_the_models_to_judge(text: str) -> None:
    assert phrase_model().finding(text, text) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"categories": ["推诿", "骂人"]}, "categories"),
        ({"category_situations": dict.fromkeys(CATEGORIES, "没有这个情形")}, "situation"),
    ],
)
def test_unusable_model_data_is_refused(change: dict, message: str) -> None:
    data = {**_model_data(), **change}
    with pytest.raises(RuleDataError, match=message):
        PhraseModel(data, situation_phrases())


def test_model_data_missing_its_weights_is_refused() -> None:
    data = _model_data()
    del data["weights"]
    with pytest.raises(RuleDataError, match="incomplete"):
        PhraseModel(data, situation_phrases())


def test_one_curt_sentence_in_a_long_polite_reply_is_found_in_its_sentence() -> None:
    # given a reply far longer than any utterance the model learned from, polite but for one sentence
    polite_before = "您好，请问您要办理什么业务？" * 30
    text = polite_before + "唔知，你问下别人。" + "请您在这边稍等一下，叫到您的号再过来。" * 30
    assert len(text) > 400
    # when it is checked
    (finding,) = check(text)
    # then the finding is that sentence's clause, at its place in the whole text
    assert (finding.rule_id, finding.text) == ("model.推诿", "唔知")
    assert (finding.start, finding.end) == (len(polite_before), len(polite_before) + 2)


def test_a_megabyte_of_polite_text_without_a_full_stop_is_judged_in_bounded_pieces() -> None:
    text = "请您在这边稍等一下叫到您的号再过来" * 60_000
    assert len(text) > 1_000_000
    assert phrase_model().finding(text, text) is None
