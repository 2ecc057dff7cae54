"""The situation coach: the seeds' prescribed phrases for each situation."""

from __future__ import annotations

import pytest

from servicehall.conduct.checker import coach
from servicehall.conduct.coach import UnknownSituation


@pytest.mark.parametrize(
    ("query", "first_phrase"),
    [
        ("找错窗口", "请您到××号窗口办理，如果有什么问题，可以再找我咨询"),
        ("材料不全", "您的手续（材料）还缺少××项，请您准备齐全再来"),
        ("不能即办", "我们将在××时间内为您办理完毕（给您答复）"),
        ("填错表格", "您的××项填写有误，请重新填一下好吗？"),
        ("受到感谢", "不客气"),
        ("受到批评", "很抱歉"),
        ("电话接听", "您好，这里是××（单位）"),
        ("对方打错电话", "您打错了，这里是××（单位）"),
        ("无法回答", "对不起，请稍等，我帮您问一下别的同志"),
    ],
)
def test_each_situation_of_the_issue_has_the_seeds_phrases(query: str, first_phrase: str) -> None:
    situation = coach().find(query)
    assert situation.phrases[0].text == first_phrase
    assert all(phrase.seed.startswith("seed 00") for phrase in situation.phrases)


def test_aliases_traditional_script_and_longer_wording_find_the_situation() -> None:
    assert [coach().find(query).key for query in ("表扬", "電話接聽", "对方打错电话了", "手续不全")] == [
        "受到感谢",
        "电话接听",
        "对方打错电话",
        "材料不全",
    ]


@pytest.mark.parametrize("query", ["", "天气", "！！"])
def test_unknown_situation_lists_the_known_ones(query: str) -> None:
    with pytest.raises(UnknownSituation) as raised:
        coach().find(query)
    assert "找错窗口" in raised.value.known
