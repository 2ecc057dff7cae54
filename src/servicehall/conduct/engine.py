"""The forbidden-phrase engine: rules compiled from reviewed data into one Aho-Corasick automaton.

A rule has patterns (what staff must not say, with its everyday variants) and guards (polite contexts
that make the same words correct service language). Each pattern has an anchor, its most distinctive
part; all anchors of all rules go into one automaton, so a text is scanned once whatever the number of
rules, and only where an anchor occurs are the pattern's other parts and the rule's guards looked for.

Pattern syntax (one string; every part is normalised like the texts, see ``text.py``):
- every alternative also stands for its colloquial variants: the data's ``synonyms`` are groups of
  interchangeable words (什么/啥, 怎么/咋, 快点/快一点/快些 …), so “急什么” also catches “急啥” without
  each rule listing both;
- parts are separated by spaces, alternatives within a part by ``|``: ``"不归|不属于 管"``;
- ``<name>`` inside an alternative stands for each word of the data's slot class ``name`` (the
  ``slots``: a class of “you” forms, of dismissive verbs, of sentence-final particles …), expanded when
  the rules are compiled, so ``"<you>去问|<you>问 <someone_else>"`` is one pattern for a family of
  utterances and still one set of automaton keywords; an unknown class name is a ``RuleDataError``;
- between two parts at most ``gap`` characters may stand (the data's default), ``~N`` before a part
  sets it: ``"说了|讲了 ~3 遍"``;
- ``{"seq": "...", "max_extra": N}``: the clause (the words between two punctuation marks) has at most N
  characters besides the match: a curt reply such as “不行！”, “等着。” or “重填！”, which inside a longer,
  explaining sentence is correct;
- ``{"near": "...", "within": N}``: the parts in any order, all within N characters (reordering:
  “墙上贴着呢，自己看去” and “自己看去，墙上贴着呢”).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import ahocorasick

from servicehall.conduct.text import Normalised, Normaliser

if TYPE_CHECKING:
    from servicehall.conduct.model import PhraseModel

CATEGORIES = ("推诿", "冷漠", "催促", "顶撞/训斥", "讥讽", "粗俗")
# An alternative with many synonymous words would multiply; past this many variants the rest are dropped.
MAX_VARIANTS = 32
SEVERITIES = (1, 2, 3)
GUARD_SET_PREFIX = "@"
# A slot reference in an alternative: ``<name>``, ASCII so that normalisation cannot touch it first.
SLOT_NAME = r"[a-z][a-z0-9_]*"
SLOT_REFERENCE = re.compile(rf"<({SLOT_NAME})>")
# Slot classes multiply (two slots of twenty words are four hundred keywords); past this the data is
# refused rather than truncated, so that no expansion is silently lost.
MAX_SLOT_EXPANSIONS = 400


class RuleDataError(ValueError):
    """The rule data (the reviewed file or a phrase added in the back office) cannot be used."""


# A part with at least this many alternatives is looked for with one compiled alternation (one call in
# C) instead of one ``str.find`` per alternative; slot classes make parts of dozens of words.
MATCHER_MIN_ALTERNATIVES = 4


@dataclass(frozen=True, slots=True)
class Part:
    alternatives: tuple[str, ...]
    gap_before: int  # most characters between the previous part's end and this part's start
    # The alternatives as one regex, in their order (so that at one position the same alternative wins
    # as with the loop of ``find``), for parts with many of them; None for the others.
    matcher: re.Pattern[str] | None = field(default=None, compare=False)
    longest: int = 0

    @classmethod
    def of(cls, alternatives: tuple[str, ...], gap_before: int) -> Part:
        matcher = None
        if len(alternatives) >= MATCHER_MIN_ALTERNATIVES:
            matcher = re.compile("|".join(re.escape(alternative) for alternative in alternatives))
        return cls(alternatives, gap_before, matcher, max(len(alternative) for alternative in alternatives))

    @property
    def shortest(self) -> int:
        return min(len(alternative) for alternative in self.alternatives)

    def first_after(self, compact: str, position: int) -> tuple[int, int]:
        """The earliest alternative starting within ``gap_before`` of ``position``: (start, end) or (-1, -1)."""
        matcher = self.matcher
        if matcher is not None:
            match = matcher.search(compact, position, position + self.gap_before + self.longest)
            if match is None or match.start() > position + self.gap_before:
                return -1, -1
            return match.span()
        best_start = best_end = -1
        for alternative in self.alternatives:
            found = compact.find(alternative, position, position + self.gap_before + len(alternative))
            if found != -1 and (best_start == -1 or found < best_start):
                best_start, best_end = found, found + len(alternative)
        return best_start, best_end


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str
    parts: tuple[Part, ...]
    anchor: int
    ordered: bool = True
    within: int = 0
    max_extra: int | None = None

    def locate(self, compact: str, start: int, end: int) -> tuple[int, int] | None:
        """The whole match around an anchor found at compact[start:end], or None (``max_extra`` aside)."""
        if len(self.parts) == 1:
            return start, end
        if self.ordered:
            return self._locate_ordered(compact, start, end)
        return self._locate_near(compact, start, end)

    def _locate_ordered(self, compact: str, start: int, end: int) -> tuple[int, int] | None:
        parts = self.parts
        position = end
        for index in range(self.anchor + 1, len(parts)):
            best_start, best_end = parts[index].first_after(compact, position)
            if best_start == -1:
                return None
            position = best_end
        last = position
        position = start
        for index in range(self.anchor - 1, -1, -1):
            gap = parts[index + 1].gap_before
            best_start = -1
            for alternative in parts[index].alternatives:
                found = compact.rfind(alternative, max(0, position - gap - len(alternative)), position)
                if found > best_start:
                    best_start = found
            if best_start == -1:
                return None
            position = best_start
        return position, last

    def _locate_near(self, compact: str, start: int, end: int) -> tuple[int, int] | None:
        first, last = start, end
        window_start = max(0, end - self.within)
        window_end = start + self.within
        for index, part in enumerate(self.parts):
            if index == self.anchor:
                continue
            best_start = best_end = -1
            for alternative in part.alternatives:
                found = compact.find(alternative, window_start, window_end)
                # A part overlapping the anchor is the same words read twice, not a second part.
                while found != -1 and found < end and found + len(alternative) > start:
                    found = compact.find(alternative, found + 1, window_end)
                if found != -1 and (best_start == -1 or abs(found - start) < abs(best_start - start)):
                    best_start, best_end = found, found + len(alternative)
            if best_start == -1:
                return None
            first, last = min(first, best_start), max(last, best_end)
        if last - first > self.within:
            return None
        return first, last

    def search(self, compact: str) -> bool:
        """Whether the pattern occurs anywhere in ``compact`` (used for guards, on a small window)."""
        for alternative in self.parts[self.anchor].alternatives:
            found = compact.find(alternative)
            while found != -1:
                span = self.locate(compact, found, found + len(alternative))
                if span is not None and (
                    self.max_extra is None or len(compact) - (span[1] - span[0]) <= self.max_extra
                ):
                    return True
                found = compact.find(alternative, found + 1)
        return False


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    title: str
    category: str
    severity: int
    seeds: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    guards: tuple[Pattern, ...]
    guard_window: int
    situation: str
    suggestion: str
    suggestions: tuple[str, ...]

    def is_guarded(self, compact: str, start: int, end: int) -> bool:
        """Whether a guard occurs near compact[start:end] (the slow, stand-alone form of ``check``'s test)."""
        if not self.guards:
            return False
        window = compact[max(0, start - self.guard_window) : end + self.guard_window]
        return any(guard.search(window) for guard in self.guards)


class Finding(NamedTuple):
    """One forbidden expression: where it is (code-point offsets into the text), why, and what to say.

    A named tuple rather than a frozen dataclass: it is built on the hot path, and a frozen dataclass
    costs several times as much to construct.
    """

    start: int
    end: int
    text: str
    rule_id: str
    title: str
    category: str
    severity: int
    situation: str
    suggestion: str
    suggestions: tuple[str, ...]
    seeds: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        picture = self._asdict()
        picture["span"] = [self.start, self.end]
        picture["suggestions"] = list(self.suggestions)
        picture["seeds"] = list(self.seeds)
        return picture


@dataclass(frozen=True)
class ExtraPhrase:
    """A phrase the centre added to a rule in the back office: another variant, or a polite exception."""

    rule_id: str
    kind: str  # "pattern" or "exception"
    pattern: str


class RuleSet:
    """The compiled rules; ``check`` is safe to call from many threads (nothing is mutated)."""

    def __init__(
        self,
        rules_data: Mapping[str, Any],
        situations: Mapping[str, Sequence[str]],
        extra: Iterable[ExtraPhrase] = (),
        model: PhraseModel | None = None,
    ) -> None:
        self.model = model
        normalisation = rules_data.get("normalisation", {})
        self.normaliser = Normaliser(
            fillers=normalisation.get("fillers", ""),
            filler_words=normalisation.get("filler_words", ()),
            folding=normalisation.get("folding", {}),
        )
        defaults = rules_data.get("defaults", {})
        self.synonyms = self._compile_synonyms(normalisation.get("synonyms", ()))
        self.slots = self._compile_slots(rules_data.get("slots", {}))
        self.default_gap = int(defaults.get("gap", 6))
        self.default_guard_window = int(defaults.get("guard_window", 12))
        guard_sets = rules_data.get("guard_sets", {})
        extras_by_rule: dict[str, list[ExtraPhrase]] = {}
        for phrase in extra:
            extras_by_rule.setdefault(phrase.rule_id, []).append(phrase)
        rules: list[Rule] = []
        seen: set[str] = set()
        for raw in rules_data.get("rules", []):
            rule = self._compile_rule(raw, guard_sets, situations, extras_by_rule.get(raw.get("id"), []))
            if rule.rule_id in seen:
                raise RuleDataError(f"规则编号重复 / duplicate rule id: {rule.rule_id}")
            seen.add(rule.rule_id)
            rules.append(rule)
        unknown = set(extras_by_rule) - seen
        if unknown:
            raise RuleDataError(
                f"追加用语指向不存在的规则 / extra phrase for unknown rule: {sorted(unknown)}"
            )
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.rules_by_id = {rule.rule_id: rule for rule in rules}
        self.version = str(rules_data.get("version", ""))
        self._automaton = self._build_automaton(rule.patterns for rule in rules)
        self._guard_automaton = self._build_guard_automaton(rule.guards for rule in rules)

    # --- compiling -------------------------------------------------------------------------------

    def _compile_synonyms(
        self, groups: Iterable[Sequence[str]]
    ) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
        compiled = []
        for group in groups:
            words = tuple(dict.fromkeys(self.normaliser.compact(str(word)) for word in group))
            if len(words) < 2 or not all(words):
                raise RuleDataError(f"同义词组至少两个非空词 / a synonym group needs two words: {group!r}")
            # Longest first, so that 快点儿 is read as one word and not as 快点 followed by 儿.
            ordered = sorted(words, key=len, reverse=True)
            compiled.append((re.compile("|".join(re.escape(word) for word in ordered)), words))
        return compiled

    @staticmethod
    def _compile_slots(raw: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
        slots = {}
        for name, words in raw.items():
            if not re.fullmatch(SLOT_NAME, name):
                raise RuleDataError(f"词类名只用小写英文字母 / slot class name must be [a-z0-9_]: {name!r}")
            if (
                isinstance(words, str)
                or not words
                or not all(isinstance(word, str) and word for word in words)
            ):
                raise RuleDataError(f"词类须为非空词语列表 / slot class needs a list of words: {name!r}")
            if any(SLOT_REFERENCE.search(word) for word in words):
                raise RuleDataError(f"词类不能嵌套 / slot classes do not nest: {name!r}")
            slots[name] = tuple(dict.fromkeys(words))
        return slots

    def expand_slots(self, alternative: str) -> list[str]:
        """``alternative`` with every ``<name>`` replaced by each word of that slot class, in order."""
        expanded = [""]
        position = 0
        for reference in SLOT_REFERENCE.finditer(alternative):
            name = reference.group(1)
            if name not in self.slots:
                raise RuleDataError(f"未知词类 / unknown slot class <{name}> in {alternative!r}")
            literal = alternative[position : reference.start()]
            expanded = [prefix + literal + word for prefix in expanded for word in self.slots[name]]
            if len(expanded) > MAX_SLOT_EXPANSIONS:
                raise RuleDataError(
                    f"词类展开过多（超过 {MAX_SLOT_EXPANSIONS} 种）/ too many slot expansions: {alternative!r}"
                )
            position = reference.end()
        literal = alternative[position:]
        return [prefix + literal for prefix in expanded]

    def variants(self, alternative: str) -> list[str]:
        """``alternative`` and its spellings with each synonym group's other words (at most MAX_VARIANTS)."""
        found = [alternative]
        for expression, words in self.synonyms:
            for current in list(found):
                if expression.search(current) is None:
                    continue
                for word in words:
                    variant = expression.sub(word, current)
                    if variant not in found and len(found) < MAX_VARIANTS:
                        found.append(variant)
        return found

    def parse_pattern(self, specification: Any, *, anchored: bool = True) -> Pattern:
        """A pattern from its data form; ``anchored`` patterns (not guards) need a distinctive anchor."""
        max_extra: int | None = None
        ordered = True
        within = 0
        if isinstance(specification, str):
            source = specification
        elif isinstance(specification, Mapping) and ("seq" in specification) != ("near" in specification):
            source = str(specification.get("seq") or specification.get("near") or "")
            ordered = "seq" in specification
            if "max_extra" in specification:
                max_extra = _non_negative(specification["max_extra"], "max_extra")
            if not ordered:
                within = _non_negative(specification.get("within", 12), "within")
        else:
            raise RuleDataError(f"无法识别的用语格式 / unrecognised pattern: {specification!r}")
        parts: list[Part] = []
        gap = self.default_gap
        for token in source.split():
            if token.startswith("~"):
                gap = _non_negative(token[1:], "~N")
                continue
            alternatives: dict[str, None] = {}
            for written in token.split("|"):
                for alternative in self.expand_slots(written):
                    compact = self.normaliser.compact(alternative)
                    if not compact:
                        raise RuleDataError(
                            f"“{alternative}”规范化后为空（只有标点或语气词）/ empty after normalisation: {source!r}"
                        )
                    alternatives.update(dict.fromkeys(self.variants(compact)))
            parts.append(Part.of(tuple(alternatives), gap if parts else 0))
            gap = self.default_gap
        if not parts:
            raise RuleDataError(f"用语为空 / empty pattern: {specification!r}")
        anchor = max(range(len(parts)), key=lambda index: (parts[index].shortest, -index))
        if anchored and max_extra is None and parts[anchor].shortest < 2:
            raise RuleDataError(
                f"用语“{source}”缺少两个字以上的关键部分，会误报大量正常用语；单字用语请设 max_extra"
                f" / pattern needs a part of at least two characters: {source!r}"
            )
        return Pattern(source, tuple(parts), anchor, ordered, within, max_extra)

    def _compile_rule(
        self,
        raw: Mapping[str, Any],
        guard_sets: Mapping[str, Sequence[str]],
        situations: Mapping[str, Sequence[str]],
        extras: Sequence[ExtraPhrase],
    ) -> Rule:
        rule_id = str(raw.get("id", "")).strip()
        if not rule_id:
            raise RuleDataError(f"规则缺少编号 / rule without id: {raw!r}")
        category = raw.get("category")
        if category not in CATEGORIES:
            raise RuleDataError(f"{rule_id}: 未知类别 / unknown category {category!r}")
        severity = raw.get("severity")
        if severity not in SEVERITIES:
            raise RuleDataError(f"{rule_id}: 严重程度应为 1–3 / severity must be 1–3")
        situation = str(raw.get("situation", ""))
        if situation not in situations:
            raise RuleDataError(f"{rule_id}: 未知情形 / unknown situation {situation!r}")
        suggestions = tuple(situations[situation])
        suggestion = str(raw.get("suggestion") or (suggestions[0] if suggestions else ""))
        if not suggestion:
            raise RuleDataError(f"{rule_id}: 缺少文明用语建议 / no civil phrase to suggest")
        seeds = tuple(str(seed) for seed in raw.get("seeds", ()))
        if not seeds:
            raise RuleDataError(f"{rule_id}: 缺少依据 / no seed citation")
        try:
            patterns = [self.parse_pattern(specification) for specification in raw.get("patterns", ())]
            patterns += [self.parse_pattern(extra.pattern) for extra in extras if extra.kind == "pattern"]
            guard_specifications: list[Any] = []
            for guard in raw.get("guards", ()):
                if isinstance(guard, str) and guard.startswith(GUARD_SET_PREFIX):
                    name = guard[len(GUARD_SET_PREFIX) :]
                    if name not in guard_sets:
                        raise RuleDataError(f"未知例外组 / unknown guard set {guard!r}")
                    guard_specifications.extend(guard_sets[name])
                else:
                    guard_specifications.append(guard)
            guard_specifications += [extra.pattern for extra in extras if extra.kind == "exception"]
            guards = [
                self.parse_pattern(specification, anchored=False) for specification in guard_specifications
            ]
        except RuleDataError as error:
            raise RuleDataError(f"{rule_id}: {error}") from error
        if not patterns:
            raise RuleDataError(f"{rule_id}: 没有用语 / no patterns")
        return Rule(
            rule_id=rule_id,
            title=str(raw.get("title", rule_id)),
            category=category,
            severity=severity,
            seeds=seeds,
            patterns=tuple(patterns),
            guards=tuple(guards),
            guard_window=int(raw.get("guard_window", self.default_guard_window)),
            situation=situation,
            suggestion=suggestion,
            suggestions=suggestions,
        )

    @staticmethod
    def _build_automaton(patterns_by_rule: Iterable[Iterable[Pattern]]) -> ahocorasick.Automaton:
        entries: dict[str, list[tuple[int, Pattern, int]]] = {}
        for rule_index, patterns in enumerate(patterns_by_rule):
            for pattern in patterns:
                for alternative in pattern.parts[pattern.anchor].alternatives:
                    entries.setdefault(alternative, []).append((rule_index, pattern, len(alternative)))
        automaton = ahocorasick.Automaton()
        for keyword, keyword_entries in entries.items():
            automaton.add_word(keyword, tuple(keyword_entries))
        if entries:
            automaton.make_automaton()
        return automaton

    @staticmethod
    def _build_guard_automaton(guards_by_rule: Iterable[Iterable[Pattern]]) -> ahocorasick.Automaton:
        """Guard anchors, each keyword's entries grouped by rule: a common word such as 您 is a guard of
        many rules, and a text is checked only against the few rules that found something in it."""
        entries: dict[str, dict[int, list[tuple[Pattern, int]]]] = {}
        for rule_index, guards in enumerate(guards_by_rule):
            for guard in guards:
                for alternative in guard.parts[guard.anchor].alternatives:
                    by_rule = entries.setdefault(alternative, {})
                    by_rule.setdefault(rule_index, []).append((guard, len(alternative)))
        automaton = ahocorasick.Automaton()
        for keyword, by_rule in entries.items():
            automaton.add_word(keyword, {index: tuple(found) for index, found in by_rule.items()})
        if entries:
            automaton.make_automaton()
        return automaton

    # --- checking --------------------------------------------------------------------------------

    def check(self, text: str) -> list[Finding]:
        """Every forbidden expression in ``text``, in order of position; an empty list when it is clean."""
        if not text:
            return []
        normalised = self.normaliser.normalise(text)
        compact = normalised.compact
        if not compact:
            return []
        candidates: dict[tuple[int, int, int], None] = {}
        for end_index, entries in self._automaton.iter(compact):
            end = end_index + 1
            for rule_index, pattern, length in entries:
                if len(pattern.parts) == 1:
                    span = (end - length, end)
                else:
                    span = pattern.locate(compact, end - length, end)
                    if span is None:
                        continue
                if (
                    pattern.max_extra is not None
                    and normalised.clause_extra(span[0], span[1]) > pattern.max_extra
                ):
                    continue
                candidates[(rule_index, span[0], span[1])] = None
        if not candidates:
            return self._model_findings(normalised)
        kept = self._unguarded(compact, list(candidates))
        if not kept:
            return self._model_findings(normalised)
        return self._findings(normalised, kept)

    def _model_findings(self, normalised: Normalised) -> list[Finding]:
        """The second layer, where no rule found anything (``model.py``)."""
        if self.model is None:
            return []
        finding = self.model.finding(normalised.original, normalised.folded)
        return [finding] if finding is not None else []

    def _unguarded(self, compact: str, candidates: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """The candidates no guard neutralises; all guards are found in one pass of their own automaton."""
        anchors: dict[int, list[tuple[int, int, Pattern]]] = {}
        wanted = {candidate[0] for candidate in candidates}
        for end_index, by_rule in self._guard_automaton.iter(compact):
            end = end_index + 1
            for rule_index in wanted:
                entries = by_rule.get(rule_index)
                if entries is None:
                    continue
                for guard, length in entries:
                    anchors.setdefault(rule_index, []).append((end - length, end, guard))
        kept = []
        for candidate in candidates:
            rule_index, start, end = candidate
            guard_anchors = anchors.get(rule_index)
            if guard_anchors:
                window = self.rules[rule_index].guard_window
                if self._guarded(compact, start - window, end + window, guard_anchors):
                    continue
            kept.append(candidate)
        return kept

    @staticmethod
    def _guarded(
        compact: str, window_start: int, window_end: int, guard_anchors: list[tuple[int, int, Pattern]]
    ) -> bool:
        window_start = max(0, window_start)
        window_end = min(len(compact), window_end)
        for anchor_start, anchor_end, guard in guard_anchors:
            if anchor_start < window_start or anchor_end > window_end:
                continue
            # The guard must lie wholly inside the window, as if the window were the whole text.
            span = guard.locate(
                compact[window_start:window_end], anchor_start - window_start, anchor_end - window_start
            )
            if span is None:
                continue
            if (
                guard.max_extra is None
                or (window_end - window_start) - (span[1] - span[0]) <= guard.max_extra
            ):
                return True
        return False

    def _findings(self, normalised: Normalised, candidates: list[tuple[int, int, int]]) -> list[Finding]:
        rules = self.rules
        # Where rules overlap (“有意见找领导去” is both 推诿 and 顶撞), the graver, then the longer, reading wins.
        candidates.sort(key=lambda key: (-rules[key[0]].severity, key[1] - key[2], key[0]))
        kept: list[tuple[int, int, int]] = []
        for candidate in candidates:
            if all(candidate[2] <= other[1] or candidate[1] >= other[2] for other in kept):
                kept.append(candidate)
        kept.sort(key=lambda key: (key[1], key[2]))
        findings = []
        for rule_index, compact_start, compact_end in kept:
            rule = rules[rule_index]
            start, end = normalised.original_span(compact_start, compact_end)
            findings.append(
                Finding(
                    start=start,
                    end=end,
                    text=normalised.original[start:end],
                    rule_id=rule.rule_id,
                    title=rule.title,
                    category=rule.category,
                    severity=rule.severity,
                    situation=rule.situation,
                    suggestion=rule.suggestion,
                    suggestions=rule.suggestions,
                    seeds=rule.seeds,
                )
            )
        return findings


def _non_negative(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise RuleDataError(f"{name} 应为非负整数 / must be a non-negative integer: {value!r}") from error
    if number < 0:
        raise RuleDataError(f"{name} 应为非负整数 / must be a non-negative integer: {value!r}")
    return number
