"""check(): every forbidden expression with span, rule, category, severity and the civil phrase."""

from __future__ import annotations

import copy

import pytest

from servicehall.conduct.checker import (
    MAX_TEXT_LENGTH,
    TextTooLong,
    base_ruleset,
    check,
    check_report,
    phrases_data,
    rules_data,
    situation_phrases,
)
from servicehall.conduct.engine import CATEGORIES, ExtraPhrase, RuleDataError, RuleSet

# Every phrase the seeds name as forbidden, verbatim: seed 000 一9, seed 001 五、禁忌用语, seed 003 禁语⑴–⑾.
SEED_FORBIDDEN = {
    "不知道": "推诿",
    "我不管": "冷漠",
    "少啰嗦": "顶撞/训斥",
    "你找领导去吧": "推诿",
    "我就这态度": "顶撞/训斥",
    "有牌子，自己看": "冷漠",
    "快点，要下班了": "催促",
    "已经告诉你了，还不懂？": "顶撞/训斥",
    "没看见我正忙吗？": "冷漠",
    "有意见找头头去": "顶撞/训斥",
    "不行，重填": "顶撞/训斥",
    "不知道，不清楚，问别人去。": "推诿",
    "快点，要下班了，明天再来。": "催促",
    "我不管，我就这态度。": "冷漠",
    "有意见找领导去。": "顶撞/训斥",
    "刚才和你说过了，怎么还问。": "顶撞/训斥",
    "到点了，你快点儿。": "催促",
    "没看我正忙着吗，着什么急。": "冷漠",
    "手续不全你来干什么。": "顶撞/训斥",
    "我说了算，还是你说了算。": "顶撞/训斥",
    "今天没空，明天再说。": "推诿",
    "文件上有规定，自己查去。": "冷漠",
}


@pytest.mark.parametrize(("text", "category"), SEED_FORBIDDEN.items())
def test_every_forbidden_phrase_of_the_seeds_is_found(text: str, category: str) -> None:
    # given a phrase a seed forbids, when it is checked
    findings = check(text)
    # then it is found, with the seed's category among the findings and a civil phrase to say instead
    assert findings
    assert category in {finding.category for finding in findings}
    assert all(finding.suggestion and finding.seeds for finding in findings)


@pytest.mark.parametrize(
    "phrase",
    [phrase["text"] for situation in phrases_data()["situations"] for phrase in situation["phrases"]],
)
def test_no_prescribed_civil_phrase_is_flagged(phrase: str) -> None:
    assert check(phrase) == []


@pytest.mark.parametrize(
    "text",
    [
        "对不起，这个我不太清楚，请稍等，我帮您问一下别的同志",
        "您不知道怎么填没关系，我教您",
        "對不起，這個我不太清楚，請稍等，我幫您問一下別的同志",
        "不管您什么时候来，我们都会认真给您办理。",
        "您的复印件有点不清楚，麻烦您重新复印一份好吗？",
        "我再啰嗦一句，原件一定要带上。",
        "这个不是我说了算，是政策规定的，请您理解。",
        "屏幕上会滚动显示您的号码。",
        "您有病历本吗？医保报销需要。",
        "快下班了，不过还来得及，我马上给您办。",
    ],
)
def test_polite_speech_sharing_the_characters_is_not_flagged(text: str) -> None:
    assert check(text) == []


def test_real_life_variants_are_found_with_their_span_in_the_original() -> None:
    # given the variants the issue names: reordering, synonyms, repetition counts
    cases = {
        "墙上贴着呢，自己看去": ("cold.read_it_yourself", "贴着呢，自己看"),
        "都说了三遍了还问": ("rebuke.told_you_already", "都说了三遍了还问"),
        "这事不归我管": ("shirk.not_my_business", "不归我管"),
        "不 知 道 ！": ("shirk.dont_know", "不 知 道"),
        "沒看我正忙著嗎，著什麼急！": ("cold.cant_you_see_busy", "沒看我正忙"),
    }
    for text, (rule_id, words) in cases.items():
        findings = check(text)
        # then the first finding is the rule, and its span is the staff member's own words
        assert (findings[0].rule_id, findings[0].text, text[findings[0].start : findings[0].end]) == (
            rule_id,
            words,
            words,
        )


def test_finding_carries_the_seed_and_the_civil_phrase() -> None:
    (finding,) = check("这个我不知道。")
    assert finding.as_dict() == {
        "start": 3,
        "end": 6,
        "span": [3, 6],
        "text": "不知道",
        "rule_id": "shirk.dont_know",
        "title": "不知道",
        "category": "推诿",
        "severity": 2,
        "situation": "无法回答",
        "suggestion": "对不起，请稍等，我帮您问一下别的同志",
        "suggestions": ["对不起，请稍等，我帮您问一下别的同志"],
        "seeds": ["seed 000 一、服务用语 9", "seed 001 五、禁忌用语", "seed 003 文明服务禁语⑴"],
    }


def test_two_forbidden_phrases_are_two_findings_in_order() -> None:
    findings = check("我不管，我就这态度。")
    assert [(finding.rule_id, finding.text, finding.severity) for finding in findings] == [
        ("cold.i_dont_care", "我不管", 3),
        ("rebuke.this_is_my_attitude", "我就这态度", 3),
    ]


def test_overlapping_readings_keep_the_graver_one() -> None:
    # “有意见找领导去” is both 推诿 (找领导去) and 顶撞 (有意见…找领导): one finding, the graver
    findings = check("有意见找领导去。")
    assert [(finding.rule_id, finding.category, finding.severity) for finding in findings] == [
        ("rebuke.complain_then", "顶撞/训斥", 3)
    ]


def test_curt_reply_is_judged_within_its_clause() -> None:
    # given “不行” alone, and “不行” opening an explanation with a polite request
    assert [finding.rule_id for finding in check("不行。")] == ["cold.curt_refusal"]
    assert check("不行，因为您的证件过期了，请您先换证。") == []


@pytest.mark.parametrize("text", ["", "   ", "！！！", "😀😀", "\u200b\u200b"])
def test_empty_or_wordless_text_is_clean(text: str) -> None:
    assert check_report(text) == {"text": text, "ok": True, "findings": []}


def test_mixed_scripts_and_emoji_are_checked_like_any_text() -> None:
    findings = check("OK 👌 but 不知道 ๆ ok")
    assert [(finding.rule_id, finding.text) for finding in findings] == [("shirk.dont_know", "不知道")]


def test_a_megabyte_of_text_is_checked_with_spans_into_it() -> None:
    # given 1 MB of polite text with one forbidden phrase near the end
    polite = "请稍等，我马上帮您办理。"
    text = polite * (1_048_576 // len(polite.encode("utf-8"))) + "我不管。"
    # when it is checked, then the one phrase is found at its place
    (finding,) = check(text)
    assert (finding.rule_id, finding.start, text[finding.start : finding.end]) == (
        "cold.i_dont_care",
        len(text) - 4,
        "我不管",
    )


def test_text_over_the_limit_is_refused_clearly() -> None:
    with pytest.raises(TextTooLong, match="文本过长"):
        check("好" * (MAX_TEXT_LENGTH + 1))


def test_rules_cover_every_category_and_cite_seeds() -> None:
    ruleset = base_ruleset()
    assert {rule.category for rule in ruleset.rules} == set(CATEGORIES)
    assert all(rule.seeds and rule.suggestion for rule in ruleset.rules)


def _data_with(change) -> dict:
    data = copy.deepcopy(rules_data())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data["rules"][0].update(category="无礼"), "未知类别"),
        (lambda data: data["rules"][0].update(severity=4), "严重程度"),
        (lambda data: data["rules"][0].update(situation="不存在的情形"), "未知情形"),
        (lambda data: data["rules"][0].update(seeds=[]), "缺少依据"),
        (lambda data: data["rules"][0].update(patterns=["管"]), "两个字以上"),
        (lambda data: data["rules"][0].update(patterns=["吧！"]), "规范化后为空"),
        (lambda data: data["rules"][0].update(guards=["@no_such_set"]), "未知例外组"),
        (lambda data: data["rules"].append(copy.deepcopy(data["rules"][0])), "规则编号重复"),
    ],
)
def test_bad_rule_data_is_refused_with_a_reason(change, message: str) -> None:
    with pytest.raises(RuleDataError, match=message):
        RuleSet(_data_with(change), situation_phrases())


def test_extra_phrases_add_variants_and_exceptions() -> None:
    # given the centre adds a dialect variant to 不知道 and an exception for a local polite idiom
    ruleset = RuleSet(
        rules_data(),
        situation_phrases(),
        [
            ExtraPhrase("shirk.dont_know", "pattern", "唔知|唔知道"),
            ExtraPhrase("shirk.dont_know", "exception", "不知道 ~4 几好"),
        ],
    )
    # then the variant is found and the idiom is not
    assert [finding.rule_id for finding in ruleset.check("唔知啊，你问下别人。")][0] == "shirk.dont_know"
    assert ruleset.check("都不知道几好，谢谢您") == []
    # and the reviewed rule set is untouched
    assert [finding.rule_id for finding in check("唔知啊") if not finding.rule_id.startswith("model.")] == []


def test_extra_phrase_for_an_unknown_rule_is_refused() -> None:
    with pytest.raises(RuleDataError, match="不存在的规则"):
        RuleSet(rules_data(), situation_phrases(), [ExtraPhrase("no.such.rule", "pattern", "不知道")])


# The colloquial wordings the second round named, each with the polite speech that shares its
# words (rule families generalised by meaning, with polite-context guards).
COLLOQUIAL_FORBIDDEN = {
    "这个你别问我。": "shirk.ask_someone_else",
    "谁让你来的？": "rebuke.this_is_my_attitude",
    "你自己不会看啊？": "cold.read_it_yourself",
    "跟你说了没用。": "shirk.ask_someone_else",
    "明天再说吧，今天不办。": "shirk.come_back_later",
    "找你们领导去。": "shirk.go_to_the_boss",
    "规定就是这样，爱办不办。": "rebuke.this_is_my_attitude",
    "你耳朵不好使啊？": "mock.body_taunt",
    "磨蹭什么？": "hurry.hurry_up",
    "后面还有人呢，快点。": "hurry.hurry_up",
    "自己上网查。": "cold.do_it_yourself",
    "不是我们这儿的事。": "shirk.not_my_business",
    "我哪知道。": "shirk.dont_know",
    "别烦我。": "cold.dont_bother_me",
    "【網上回復】此事不屬於本部門職責，請自行諮詢相關部門。": "shirk.vague_referral",
    "你再闹我叫保安。": "rebuke.threat",
    "你还有理了？": "rebuke.talk_back",
    "屁大点事也来问。": "vulgar.abuse",
}


@pytest.mark.parametrize(("text", "rule_id"), COLLOQUIAL_FORBIDDEN.items())
def test_colloquial_wordings_are_found_by_their_family(text: str, rule_id: str) -> None:
    assert rule_id in {finding.rule_id for finding in check(text)}


@pytest.mark.parametrize(
    "text",
    [
        "您可以自己在网上查询办理进度，我把网址写给您。",
        "这件事不归我们窗口负责，我带您去社保窗口。",
        "请稍快一点填写，后面还有群众在等候，谢谢您的配合。",
        "因为需要领导签字，今天办不完，明天上午您再来取，我们提前给您打电话。",
        "您耳朵不方便的话，我写在纸上给您。",
        "规定确实是这样，我把文件给您看，也理解您的难处。",
        "网上回复：您好，该事项属于市场监管局职责，我们已将您的留言转交该局，请留意回复。",
        "这个事情我说了不算，需要审批科审核，我帮您递过去。",
        "有人闹事的话，我们会请保安维持秩序。",
        "你要是不会弄，我帮你弄。",
        "系统会自己查重，不会重复扣费。",
        # seed 000 微笑服务制 “十要”: an instruction to staff, not a hurry
        "要微笑多一点、嘴巴甜一点、动作轻一点、说话柔一点、行动快一点、办事稳一点",
    ],
)
def test_polite_speech_sharing_the_new_families_words_is_not_flagged(text: str) -> None:
    assert check(text) == []


def test_synonym_groups_spell_every_alternative_colloquially() -> None:
    ruleset = base_ruleset()
    # given 急什么 written once in the data, then 急啥 and 急甚么 are the same pattern
    assert {"急什么", "急啥", "急甚么"} <= set(ruleset.variants("急什么"))
    assert [finding.rule_id for finding in check("急啥急！")] == ["cold.cant_you_see_busy"]
    assert [finding.rule_id for finding in check("你吵吵啥？")] == ["rebuke.shut_up"]
    # and 俺/咱 fold to 我 one character for one character, with the span in the original
    (finding,) = check("这个俺们这不管。")
    assert (finding.rule_id, finding.text) == ("shirk.not_my_business", "俺们这不管")


def test_synonym_group_of_one_word_is_refused() -> None:
    data = _data_with(lambda data: data["normalisation"]["synonyms"].append(["什么"]))
    with pytest.raises(RuleDataError, match="同义词组"):
        RuleSet(data, situation_phrases())


def _data_with_slot_rule(slots: dict, pattern: str) -> dict:
    def change(data: dict) -> None:
        data["slots"] = {**data.get("slots", {}), **slots}
        data["rules"][0]["patterns"] = [pattern]
        data["rules"][0]["guards"] = ["您"]

    return _data_with(change)


def test_slot_classes_expand_into_one_pattern_for_a_family_of_utterances() -> None:
    # given one pattern written with two slot classes (words no reviewed rule uses)
    data = _data_with_slot_rule(
        {"colour": ["红色", "黄色"], "fruit": ["苹果", "香蕉"]}, "<colour>的 ~0 <fruit>"
    )
    ruleset = RuleSet(data, situation_phrases())
    rule_id = data["rules"][0]["id"]
    # then every combination of the classes' words is found, through the one automaton
    for text in ("红色的苹果", "黄色的香蕉。", "一根红色的香蕉"):
        assert [finding.rule_id for finding in ruleset.check(text)] == [rule_id], text
    # and the rule's guards still hold, and a word outside the classes is not the pattern
    assert ruleset.check("您要红色的苹果吗") == []
    assert ruleset.check("绿色的苹果") == []
    assert set(ruleset.expand_slots("<colour><fruit>")) == {"红色苹果", "红色香蕉", "黄色苹果", "黄色香蕉"}


def test_the_reviewed_slot_classes_cover_their_families() -> None:
    # 冲我嚷 / 冲我吼 / 对我发火 are one pattern, 冲<scold_verb>, in the reviewed data
    for text in ("冲我嚷有用吗？", "你对我吼什么", "跟我发火也没用"):
        assert check(text), text
    assert check("您要是对我们的服务不满意，欢迎冲我提意见。") == []


@pytest.mark.parametrize(
    ("slots", "pattern", "message"),
    [
        ({"you": ["你"]}, "<they>问 别人", "未知词类"),
        ({"You": ["你"]}, "你问 别人", "词类名"),
        ({"you": []}, "你问 别人", "非空词语列表"),
        ({"you": "你"}, "你问 别人", "非空词语列表"),
        ({"you": ["<me>"], "me": ["我"]}, "<you>问 别人", "不能嵌套"),
        ({"many": [f"词{index}" for index in range(30)]}, "<many><many>问 别人", "展开过多"),
    ],
)
def test_bad_slot_classes_are_refused_with_a_reason(slots: dict, pattern: str, message: str) -> None:
    with pytest.raises(RuleDataError, match=message):
        RuleSet(_data_with_slot_rule(slots, pattern), situation_phrases())


# Issue 8: linguistic families written once with slot classes, each with a wording that no rule lists
# literally (refusal of responsibility, brush-off imperatives, impatience counts, blame, dismissive).
FAMILY_FORBIDDEN = {
    "这事不属于我们科负责。": "shirk.not_my_business",
    "轮不到我们开这个证明。": "shirk.not_my_business",
    "这个我们窗口没法管。": "shirk.not_my_business",
    "你的事跟我有什么关系？": "shirk.not_my_business",
    "你问的这个我哪清楚。": "shirk.dont_know",
    "去二楼服务台问去。": "shirk.ask_someone_else",
    "找你原单位去。": "shirk.ask_someone_else",
    "出了问题找物业。": "shirk.ask_someone_else",
    "自己照着样表填。": "cold.do_it_yourself",
    "不会弄就叫你孙子来弄。": "cold.do_it_yourself",
    "别一趟趟往这跑，叫号会喊。": "cold.brush_off",
    "回座位上等着。": "cold.wait_over_there",
    "我都交代过你好几回了。": "rebuke.told_you_already",
    "上次不是提醒过你要带原件吗？": "rebuke.told_you_already",
    "你怎么老是忘带东西？": "rebuke.blame",
    "谁教你这么写的？": "rebuke.blame",
    "你委屈什么，又不是我定的。": "rebuke.shut_up",
    "填个表填了半天。": "hurry.hurry_up",
    "就这还能填错？": "mock.cant_even",
    "哟，总算想起来带证件了。": "mock.sarcasm",
}


@pytest.mark.parametrize(("text", "rule_id"), FAMILY_FORBIDDEN.items())
def test_slot_class_families_catch_wordings_no_rule_lists(text: str, rule_id: str) -> None:
    assert rule_id in {finding.rule_id for finding in check(text)}


@pytest.mark.parametrize(
    "text",
    [
        # the prescribed phrases of issue 8 and the families' polite look-alikes
        "对不起，这个我不太清楚，请稍等，我帮您问一下别的同志",
        "您不知道怎么填没关系，我教您",
        "这件事不是我负责，但我帮您把负责的同事叫过来。",
        "这个证明不归我们开，但我可以把村委会的电话给你。",
        "跟我们窗口没关系的材料您不用带，带身份证就行。",
        "你得问一下窗口里的同事，我陪你过去。",
        "您说了好几遍我都没听清，真不好意思，麻烦您再说一次。",
        "我们已经强调过很多次安全问题，大家注意脚下。",
        "你怎么称呼？我帮你登记。",
        "你怎么知道这个政策的？挺细心的。",
        "您写了半天累了吧，歇一会儿再填。",
        "这是您第三趟了，真不好意思让您多跑了。",
        "请大家往后站一点，保持一米距离，谢谢。",
        "有问题就问，别不好意思。",
    ],
)
def test_families_leave_prescribed_and_polite_speech_clean(text: str) -> None:
    assert check(text) == []


def test_compiled_part_matcher_finds_what_the_find_loop_finds() -> None:
    # given a part with many alternatives (looked for with one regex) and the same part as a find loop
    from servicehall.conduct.engine import MATCHER_MIN_ALTERNATIVES, Part

    alternatives = ("管", "负责", "的事", "处理", "管的", "负责的")
    assert len(alternatives) >= MATCHER_MIN_ALTERNATIVES
    compiled = Part.of(alternatives, 3)
    looped = Part(alternatives, 3, None, compiled.longest)
    assert compiled.matcher is not None
    texts = ["不归我们管", "不是我们这儿负责的", "不是我的事", "我们不处理", "不归我们这里呀管", "管的负责"]
    for text in texts:
        for position in range(len(text) + 1):
            # then both give the same earliest alternative, or none, from every position
            assert compiled.first_after(text, position) == looped.first_after(text, position), (
                text,
                position,
            )
