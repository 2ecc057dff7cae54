"""Measuring the checker on the labelled corpus: precision and recall, per part.

The corpus (``corpus/*.tsv``, ``label<TAB>text``) was written from the seeds' situations: forbidden
phrases with their everyday variants (and traditional, spaced, emoji-strewn forms), and correct service
language that shares their characters. ``development.tsv`` is what the rules were tuned on;
``heldout.tsv`` is never used to tune them. Each file has sections (``# section: name (…)``) that say
when their lines were written and how they scored the first time: the held-out ``before-rules`` section
was written before any rule, by the rules' own author; ``after-rules`` and ``blind-4`` were written
before the rules that now score them and were scored without being tuned on. A blind batch that was
later used for tuning (``blind-3``, the ``fresh-*`` batches) moves to the development file and keeps its
untouched first score in its header, so the record shows how the rules generalise to wording they have
not seen — the figure that matters, and the one that stays well below the development figures.

An utterance is predicted forbidden when the checker reports at least one finding; the label ``ok``
means correct service language, any other label is the category of the forbidden expression in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from servicehall.conduct.engine import CATEGORIES, RuleSet

CORPUS_DIRECTORY = Path(__file__).resolve().parent / "corpus"
CORPUS_PARTS = {"development": "development.tsv", "heldout": "heldout.tsv"}
CLEAN_LABEL = "ok"


class CorpusError(ValueError):
    pass


SECTION_MARKER = "# section:"


@dataclass(frozen=True)
class LabelledUtterance:
    line: int
    label: str
    text: str
    section: str = ""

    @property
    def forbidden(self) -> bool:
        return self.label != CLEAN_LABEL


@dataclass
class Evaluation:
    part: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0
    category_matches: int = 0
    missed: list[LabelledUtterance] = field(default_factory=list)
    false_alarms: list[tuple[LabelledUtterance, list[str]]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.true_positives + self.false_positives + self.false_negatives + self.true_negatives

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        forbidden = self.true_positives + self.false_negatives
        return self.true_positives / forbidden if forbidden else 1.0

    @property
    def category_accuracy(self) -> float:
        """Of the forbidden utterances caught, how many got the labelled category among their findings."""
        return self.category_matches / self.true_positives if self.true_positives else 1.0

    def summary(self) -> str:
        return (
            f"{self.part}: n={self.size} precision={self.precision:.3f} recall={self.recall:.3f} "
            f"category={self.category_accuracy:.3f} "
            f"(TP={self.true_positives} FP={self.false_positives} FN={self.false_negatives} "
            f"TN={self.true_negatives})"
        )


def load_corpus(path: Path) -> list[LabelledUtterance]:
    utterances = []
    section = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(SECTION_MARKER):
            section = line[len(SECTION_MARKER) :].split("(")[0].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        label, separator, text = line.partition("\t")
        if not separator or (label != CLEAN_LABEL and label not in CATEGORIES):
            raise CorpusError(f"{path.name}:{number}: expected 'label<TAB>text' with a known label")
        utterances.append(LabelledUtterance(number, label, text, section))
    return utterances


def corpus_part(part: str) -> list[LabelledUtterance]:
    return load_corpus(CORPUS_DIRECTORY / CORPUS_PARTS[part])


def evaluate_by_section(ruleset: RuleSet, part: str) -> list[Evaluation]:
    """The whole part first, then each of its sections."""
    utterances = corpus_part(part)
    results = [evaluate(ruleset, utterances, part)]
    sections = list(dict.fromkeys(utterance.section for utterance in utterances if utterance.section))
    for section in sections:
        chosen = [utterance for utterance in utterances if utterance.section == section]
        results.append(evaluate(ruleset, chosen, f"{part}/{section}"))
    return results


def evaluate(ruleset: RuleSet, utterances: list[LabelledUtterance], part: str = "") -> Evaluation:
    result = Evaluation(part)
    for utterance in utterances:
        findings = ruleset.check(utterance.text)
        if utterance.forbidden and findings:
            result.true_positives += 1
            if any(finding.category == utterance.label for finding in findings):
                result.category_matches += 1
        elif utterance.forbidden:
            result.false_negatives += 1
            result.missed.append(utterance)
        elif findings:
            result.false_positives += 1
            result.false_alarms.append((utterance, [finding.rule_id for finding in findings]))
        else:
            result.true_negatives += 1
    return result
