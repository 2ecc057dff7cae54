"""A whole conversation: forbidden phrases in the staff's lines, and the 三声 (迎声、答声、送声)."""

from __future__ import annotations

from servicehall.conduct.checker import check_transcript

GOOD = """员：您好，请坐，请问您要办理什么业务？
民：我想办失业登记，需要带什么材料？
员：请出示您的身份证，我马上帮您办理。
民：好的，给您。
员：请收好您的单据，请慢走，再见。
"""


def test_a_good_conversation_has_all_three_voices_and_no_finding() -> None:
    report = check_transcript(GOOD)
    assert report.ok
    assert [(voice.name, voice.present, voice.line) for voice in report.voices] == [
        ("迎声", True, 1),
        ("答声", True, None),
        ("送声", True, 5),
    ]
    assert report.as_dict()["missing_voices"] == []


def test_missing_greeting_unanswered_question_and_missing_farewell_are_reported() -> None:
    # given a conversation with no greeting, a question left unanswered and no farewell
    text = """民：请问社保卡在哪里补办？
民：有人吗？
员：身份证给我。
民：好的。
员：行了。
"""
    report = check_transcript(text)
    # then each missing voice is named, and the unanswered question is the first line
    assert report.missing_voices == ["迎声", "答声", "送声"]
    assert report.voices[1].unanswered == (1,)
    assert not report.ok


def test_forbidden_phrases_are_found_in_staff_lines_only() -> None:
    # given a citizen who says 不知道 and a staff member who says it too
    text = """员：您好。
民：我不知道要带什么材料。
员：不知道，你问别人去。
员：再见。
"""
    report = check_transcript(text)
    # then only the staff line is flagged, with its line number
    assert [(line, finding.rule_id) for line, finding in report.findings] == [
        (3, "shirk.dont_know"),
        (3, "shirk.ask_someone_else"),
    ]
    assert report.highest_severity == 2


def test_lines_without_a_speaker_are_reported_and_the_others_checked() -> None:
    text = "\ufeff员: 您好\n\n这一行没有说话人\n工作人员：我不管\n群众:谢谢\n员：再见"
    report = check_transcript(text)
    assert report.unrecognised_lines == [3]
    assert [(utterance.line, utterance.speaker) for utterance in report.utterances] == [
        (1, "staff"),
        (3, None),
        (4, "staff"),
        (5, "citizen"),
        (6, "staff"),
    ]
    assert [finding.rule_id for _line, finding in report.findings] == ["cold.i_dont_care"]


def test_empty_transcript_misses_greeting_and_farewell() -> None:
    report = check_transcript("")
    assert (report.utterances, report.missing_voices) == ([], ["迎声", "送声"])


def test_report_as_json_names_every_part() -> None:
    answer = check_transcript(GOOD).as_dict()
    assert sorted(answer) == [
        "finding_count",
        "highest_severity",
        "missing_voices",
        "ok",
        "three_voices",
        "unrecognised_lines",
        "utterances",
    ]
    assert answer["utterances"][1] == {
        "line": 2,
        "speaker": "citizen",
        "text": "我想办失业登记，需要带什么材料？",
        "is_question": True,
        "findings": [],
    }
