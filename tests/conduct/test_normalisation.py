"""Normalising texts for matching: one character for one character, so spans map back exactly."""

from __future__ import annotations

import pytest

from servicehall.conduct.checker import base_ruleset
from servicehall.conduct.text import Normaliser, traditional_to_simplified


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return base_ruleset().normaliser


def test_traditional_characters_come_from_opencc() -> None:
    # given OpenCC's t2s conversion taken character by character
    table = traditional_to_simplified()
    # then the characters of the seeds' phrases in traditional script fold to the simplified ones
    assert [table["這"], table["歸"], table["囉"], table["頭"], table["牆"]] == ["这", "归", "啰", "头", "墙"]
    # and every entry is one character for one character
    assert all(len(source) == 1 and len(target) == 1 for source, target in table.items())


def test_compact_form_drops_punctuation_spaces_emoji_and_fillers(normaliser: Normaliser) -> None:
    # given a noisy reply, when it is compacted, then only the words remain
    assert normaliser.compact("不 -- 知……道 啊！😒") == "不知道"
    assert normaliser.compact("墙上贴着呢，自己看去。") == "墙上贴着自己看去"
    assert normaliser.compact("這事不歸我管") == "这事不归我管"


def test_full_width_and_capital_letters_fold(normaliser: Normaliser) -> None:
    assert normaliser.compact("ＴＭＤ，ｂｕ知道") == "tmdbu知道"


def test_compatibility_ideograph_folds_to_the_unified_one(normaliser: Normaliser) -> None:
    # given U+F967, the compatibility form of 不 that looks identical
    assert normaliser.compact("\uf967知道") == "不知道"


def test_filler_inside_a_kept_word_stays(normaliser: Normaliser) -> None:
    # 嘛 is a filler, except in 干嘛, where it carries the meaning
    assert normaliser.compact("你来干嘛？好嘛。") == "你来干嘛好"


def test_spans_map_back_to_the_original_characters(normaliser: Normaliser) -> None:
    # given a text whose compact form lost punctuation and fillers
    normalised = normaliser.normalise("哎，不……知道啊！")
    # when compact characters 0..3 (不知道) are mapped back
    start, end = normalised.original_span(0, 3)
    # then the span covers the staff member's own characters, with what lay between them
    assert (normalised.compact, start, end, normalised.original[start:end]) == ("不知道", 2, 7, "不……知道")


def test_clause_extra_counts_only_the_clause_of_the_match(normaliser: Normaliser) -> None:
    # given a curt “等着” in its own clause after a longer one
    normalised = normaliser.normalise("我现在没空，等着。")
    # then its clause holds nothing else, while the whole utterance holds five more characters
    assert normalised.clause_extra(5, 7) == 0
    assert normalised.clause_extra(0, 2) == 3


def test_folding_data_must_map_single_characters() -> None:
    with pytest.raises(ValueError, match="one character"):
        Normaliser(folding={"着呢": "着"})
