"""The checker's front door: the reviewed rule and phrase data, the rule set built from them, ``check``.

Pure: the standard library, the app's own data files and the two matching libraries, no database.
Extra phrases entered in the back office are merged in by ``service.current_ruleset``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from servicehall.conduct.coach import Coach
from servicehall.conduct.engine import ExtraPhrase, Finding, RuleSet
from servicehall.conduct.model import PhraseModel
from servicehall.conduct.transcript import TranscriptChecker, TranscriptReport

DATA_DIRECTORY = Path(__file__).resolve().parent
RULES_PATH = DATA_DIRECTORY / "rules.json"
PHRASES_PATH = DATA_DIRECTORY / "phrases.json"
MODEL_PATH = DATA_DIRECTORY / "model.json"
# A whole conversation fits many times over; anything longer is not a staff reply or a transcript.
MAX_TEXT_LENGTH = 1_000_000


class TextTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(
            f"文本过长（{length} 字，上限 {MAX_TEXT_LENGTH} 字）/ text too long ({length} > {MAX_TEXT_LENGTH})"
        )
        self.length = length


@functools.cache
def rules_data() -> dict[str, Any]:
    return json.loads(RULES_PATH.read_text(encoding="utf-8"))


@functools.cache
def phrases_data() -> dict[str, Any]:
    return json.loads(PHRASES_PATH.read_text(encoding="utf-8"))


def situation_phrases() -> dict[str, list[str]]:
    """Situation name → the civil phrases the seeds prescribe for it, in the seeds' order."""
    return {
        situation["key"]: [phrase["text"] for phrase in situation["phrases"]]
        for situation in phrases_data()["situations"]
    }


@functools.cache
def phrase_model() -> PhraseModel | None:
    """The trained second layer, or None when no model file has been trained yet."""
    if not MODEL_PATH.exists():
        return None
    return PhraseModel(json.loads(MODEL_PATH.read_text(encoding="utf-8")), situation_phrases())


def build_ruleset(extra: Iterable[ExtraPhrase] = (), *, with_model: bool = True) -> RuleSet:
    return RuleSet(rules_data(), situation_phrases(), extra, model=phrase_model() if with_model else None)


@functools.cache
def base_ruleset() -> RuleSet:
    """The reviewed rules and the trained model, without the back office's phrases; built once per process."""
    return build_ruleset()


@functools.cache
def rules_only_ruleset() -> RuleSet:
    """The reviewed rules without the model: what the evaluation compares the model against."""
    return build_ruleset(with_model=False)


def check(text: str, ruleset: RuleSet | None = None) -> list[Finding]:
    """Every forbidden expression in ``text`` with its span, rule, category, severity and civil phrase."""
    if len(text) > MAX_TEXT_LENGTH:
        raise TextTooLong(len(text))
    return (ruleset or base_ruleset()).check(text)


def check_report(text: str, ruleset: RuleSet | None = None) -> dict[str, Any]:
    """The JSON form shared by the API and the command line: ``{"text", "ok", "findings"}``."""
    findings = check(text, ruleset)
    return {"text": text, "ok": not findings, "findings": [finding.as_dict() for finding in findings]}


def check_transcript(text: str, ruleset: RuleSet | None = None) -> TranscriptReport:
    """Forbidden phrases in the staff's lines and the 三声 of a whole conversation."""
    if len(text) > MAX_TEXT_LENGTH:
        raise TextTooLong(len(text))
    return TranscriptChecker(ruleset or base_ruleset(), phrases_data()["three_voices"]).check(text)


@functools.cache
def coach() -> Coach:
    return Coach(phrases_data(), base_ruleset().normaliser)
