"""Checking a whole service conversation: forbidden phrases in the staff's lines, and the 三声.

三声 — 来有迎声、问有答声、走有送声 (seed 000 一、服务用语 3; seed 001 举止规范 3 and 服务态度 2;
seed 003 二、服务语言规范 3): a greeting when the citizen comes, an answer to every question, a
farewell when they leave.

A transcript is plain text, one utterance per line, each marked with its speaker: ``员:`` for the staff
member and ``民:`` for the citizen (full-width colons too; a few longer names are accepted). Blank lines
are skipped; a line without a speaker is reported, not guessed, and never stops the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from servicehall.conduct.engine import Finding, RuleSet

STAFF = "staff"
CITIZEN = "citizen"
SPEAKER_PREFIXES = {
    "员": STAFF,
    "工作人员": STAFF,
    "窗口": STAFF,
    "staff": STAFF,
    "民": CITIZEN,
    "群众": CITIZEN,
    "市民": CITIZEN,
    "办事群众": CITIZEN,
    "服务对象": CITIZEN,
    "citizen": CITIZEN,
}
_SPEAKER = re.compile(
    r"^\s*(?P<speaker>"
    + "|".join(sorted((re.escape(prefix) for prefix in SPEAKER_PREFIXES), key=len, reverse=True))
    + r")\s*[:：]\s*(?P<text>.*)$",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = re.compile(r"[\s。！!～~…，,、]+$")

GREETING = "greeting"
ANSWERS = "answers"
FAREWELL = "farewell"
VOICE_NAMES = {GREETING: "迎声", ANSWERS: "答声", FAREWELL: "送声"}


@dataclass(frozen=True)
class Utterance:
    line: int
    speaker: str | None  # None: the line has no recognised speaker
    text: str
    findings: tuple[Finding, ...] = ()
    is_question: bool = False


@dataclass(frozen=True)
class VoiceCheck:
    """One of the 三声: whether it was heard, and on which line (or which questions went unanswered)."""

    voice: str
    present: bool
    line: int | None = None
    unanswered: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        return VOICE_NAMES[self.voice]


@dataclass
class TranscriptReport:
    utterances: list[Utterance] = field(default_factory=list)
    voices: list[VoiceCheck] = field(default_factory=list)
    unrecognised_lines: list[int] = field(default_factory=list)

    @property
    def findings(self) -> list[tuple[int, Finding]]:
        return [(utterance.line, finding) for utterance in self.utterances for finding in utterance.findings]

    @property
    def missing_voices(self) -> list[str]:
        return [voice.name for voice in self.voices if not voice.present]

    @property
    def highest_severity(self) -> int:
        return max((finding.severity for _line, finding in self.findings), default=0)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.missing_voices

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "utterances": [
                {
                    "line": utterance.line,
                    "speaker": utterance.speaker,
                    "text": utterance.text,
                    "is_question": utterance.is_question,
                    "findings": [finding.as_dict() for finding in utterance.findings],
                }
                for utterance in self.utterances
            ],
            "three_voices": [
                {
                    "voice": voice.voice,
                    "name": voice.name,
                    "present": voice.present,
                    "line": voice.line,
                    "unanswered_questions": list(voice.unanswered),
                }
                for voice in self.voices
            ],
            "missing_voices": self.missing_voices,
            "unrecognised_lines": self.unrecognised_lines,
            "finding_count": len(self.findings),
            "highest_severity": self.highest_severity,
        }


class TranscriptChecker:
    """Built from the phrase data's ``three_voices`` markers and a rule set."""

    def __init__(self, ruleset: RuleSet, three_voices: dict[str, Any]) -> None:
        self.ruleset = ruleset
        compact = ruleset.normaliser.compact
        self.greeting_markers = tuple(compact(marker) for marker in three_voices["greeting"])
        self.farewell_markers = tuple(compact(marker) for marker in three_voices["farewell"])
        self.question_words = tuple(compact(word) for word in three_voices["question_words"])
        self.question_endings = tuple(three_voices["question_endings"])
        self.greeting_lines = int(three_voices.get("greeting_lines", 2))
        self.farewell_lines = int(three_voices.get("farewell_lines", 2))

    def parse(self, text: str) -> tuple[list[Utterance], list[int]]:
        utterances: list[Utterance] = []
        unrecognised: list[int] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                continue
            match = _SPEAKER.match(line)
            if match is None:
                unrecognised.append(number)
                utterances.append(Utterance(number, None, line.strip()))
                continue
            speaker = SPEAKER_PREFIXES[match.group("speaker").lower()]
            spoken = match.group("text").strip()
            if speaker == STAFF:
                utterances.append(Utterance(number, STAFF, spoken, tuple(self.ruleset.check(spoken))))
            else:
                utterances.append(Utterance(number, CITIZEN, spoken, is_question=self.is_question(spoken)))
        return utterances, unrecognised

    def is_question(self, text: str) -> bool:
        if "?" in text or "？" in text:
            return True
        stripped = _TRAILING_PUNCTUATION.sub("", text)
        if stripped.endswith(self.question_endings):
            return True
        compact = self.ruleset.normaliser.compact(text)
        return any(word in compact for word in self.question_words)

    def check(self, text: str) -> TranscriptReport:
        utterances, unrecognised = self.parse(text)
        staff = [utterance for utterance in utterances if utterance.speaker == STAFF]
        report = TranscriptReport(utterances=utterances, unrecognised_lines=unrecognised)
        report.voices = [
            self._voice(GREETING, staff[: self.greeting_lines], self.greeting_markers),
            self._answers(utterances),
            self._voice(FAREWELL, staff[-self.farewell_lines :] if staff else [], self.farewell_markers),
        ]
        return report

    def _voice(self, voice: str, candidates: list[Utterance], markers: tuple[str, ...]) -> VoiceCheck:
        compact = self.ruleset.normaliser.compact
        for utterance in candidates:
            said = compact(utterance.text)
            if any(marker in said for marker in markers):
                return VoiceCheck(voice, True, utterance.line)
        return VoiceCheck(voice, False)

    @staticmethod
    def _answers(utterances: list[Utterance]) -> VoiceCheck:
        """Every citizen question is followed by a staff line before the citizen speaks again."""
        unanswered: list[int] = []
        waiting: list[int] = []
        for utterance in utterances:
            if utterance.speaker == CITIZEN:
                unanswered.extend(waiting)
                waiting = [utterance.line] if utterance.is_question else []
            elif utterance.speaker == STAFF and utterance.text:
                waiting = []
        unanswered.extend(waiting)
        return VoiceCheck(ANSWERS, not unanswered, None, tuple(unanswered))
