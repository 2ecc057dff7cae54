"""Normalising spoken or typed Chinese for matching, with a map back to the original characters.

A staff member's words reach the checker with full-width letters, traditional characters, spaces,
punctuation, emoji and fillers (啊 呀 呢 吧 …) in between; the rules are written in plain simplified
Chinese. Normalising both the same way lets one pattern catch all of those variants.

Steps, each keeping one character for one character so that spans map back exactly:
1. fold: traditional → simplified (OpenCC's own t2s conversion, taken character by character) and the
   NFKC compatibility forms that are letters or digits (ｂ → b, ① → 1, compatibility ideographs);
2. drop: everything that is not a letter or digit (punctuation, spaces, symbols, emoji, combining
   marks, zero-width characters) and the filler characters named in the rule data.

Phrase-level OpenCC conversion is not used on purpose: it may change the length of the text, and the
character conversion is all that keyword matching needs.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# The blocks in which OpenCC's t2s dictionary has single-character entries.
_IDEOGRAPH_BLOCKS = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2F800, 0x2FA1F),
)
# The blocks whose NFKC forms can matter to a Chinese phrase: full-width letters and digits, Kangxi and
# CJK radicals, compatibility ideographs, circled and Roman numbers. Others (mathematical letters,
# squared Latin words) expand to several characters or never occur in a service conversation.
_COMPATIBILITY_BLOCKS = (
    (0x2150, 0x218F),
    (0x2460, 0x24FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x2F800, 0x2FA1F),
)


@functools.cache
def traditional_to_simplified() -> dict[str, str]:
    """Every traditional character OpenCC's t2s conversion turns into one different simplified character."""
    import opencc

    characters = [chr(code) for first, last in _IDEOGRAPH_BLOCKS for code in range(first, last + 1)]
    # One character per line: OpenCC segments by phrase, and a line break ends every phrase.
    converted = opencc.OpenCC("t2s").convert("\n".join(characters)).split("\n")
    if len(converted) != len(characters):  # pragma: no cover - a broken OpenCC build
        raise RuntimeError("OpenCC t2s conversion did not keep one line per character")
    return {
        source: target
        for source, target in zip(characters, converted, strict=True)
        if source != target and len(target) == 1
    }


@functools.cache
def _compatibility_forms() -> dict[str, str]:
    forms = {}
    for first, last in _COMPATIBILITY_BLOCKS:
        for code in range(first, last + 1):
            character = chr(code)
            form = unicodedata.normalize("NFKC", character)
            if form != character and len(form) == 1 and form.isalnum():
                forms[character] = form
    return forms


def _character_class(codes: Iterable[int]) -> str:
    """A regex character class of the code points, as ranges (sre matches a BMP class by bitmap)."""
    ordered = sorted(set(codes))
    if not ordered:
        return "[^\\s\\S]"
    ranges: list[tuple[int, int]] = []
    first = previous = ordered[0]
    for code in ordered[1:]:
        if code != previous + 1:
            ranges.append((first, previous))
            first = code
        previous = code
    ranges.append((first, previous))
    parts = (
        f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges
    )
    return "[" + "".join(parts) + "]"


# What ends a clause: a curt “不行！” or “等着。” is judged within its own clause, not the whole utterance.
CLAUSE_BREAK = re.compile("[，。！？；：、,.!?;:\n\r…～~]")


@dataclass
class Normalised:
    """A text in its original form and in its compact matching form, with the map between them."""

    original: str
    folded: str  # same length as ``original``: position i is original character i
    compact: str
    _drop: re.Pattern[str] = field(repr=False)
    _positions: list[int] | None = field(default=None, repr=False)
    _breaks: list[int] | None = field(default=None, repr=False)

    @property
    def positions(self) -> list[int]:
        """For each compact character, the index of the original character it came from."""
        if self._positions is None:
            positions: list[int] = []
            previous = 0
            for dropped in self._drop.finditer(self.folded):
                positions.extend(range(previous, dropped.start()))
                previous = dropped.end()
            positions.extend(range(previous, len(self.folded)))
            self._positions = positions
        return self._positions

    def clause_extra(self, start: int, end: int) -> int:
        """How many compact characters stand in the clause(s) of compact[start:end] besides the span."""
        if self._breaks is None:
            self._breaks = [match.start() for match in CLAUSE_BREAK.finditer(self.folded)]
        breaks = self._breaks
        if not breaks:
            return len(self.compact) - (end - start)
        positions = self.positions
        first_original, last_original = positions[start], positions[end - 1]
        before = bisect.bisect_left(breaks, first_original)
        clause_start = breaks[before - 1] + 1 if before else 0
        after = bisect.bisect_left(breaks, last_original)
        clause_end = breaks[after] if after < len(breaks) else len(self.folded)
        in_clause = bisect.bisect_left(positions, clause_end) - bisect.bisect_left(positions, clause_start)
        return in_clause - (end - start)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that compact[start:end] was made from."""
        positions = self.positions
        return positions[start], positions[end - 1] + 1


class Normaliser:
    """Folds and compacts texts; built once from the rule data's fillers and foldings."""

    def __init__(
        self,
        fillers: str = "",
        filler_words: Iterable[str] = (),
        folding: Mapping[str, str] | None = None,
    ) -> None:
        table = dict(traditional_to_simplified())
        for source, target in _compatibility_forms().items():
            table[source] = table.get(target, target).lower()
        # Latin letters in rules (tmd, sb) are lower case; capitals are rare in Chinese speech, so the
        # slow path they take costs nothing that matters.
        for code in range(ord("A"), ord("Z") + 1):
            table[chr(code)] = chr(code).lower()
        for source, target in (folding or {}).items():
            if len(source) != 1 or len(target) != 1:
                raise ValueError(f"folding must map one character to one character: {source!r} → {target!r}")
            table[source] = target
        self.table = {ord(source): target for source, target in table.items()}
        bmp = [code for code in self.table if code <= 0xFFFF]
        # Any astral character (emoji, extension-B ideographs) takes the slow path: a class with thousands
        # of astral singletons would be scanned linearly, one range is not.
        self._needs_folding = re.compile(
            _character_class(bmp)[:-1] + "\\U00010000-\\U0010ffff]" if bmp else "[\\U00010000-\\U0010ffff]"
        )
        self.fillers = "".join(sorted(set(fillers)))
        self.filler_words = tuple(filler_words)
        self._drop = re.compile(self._drop_expression(self.fillers, self.filler_words))

    @staticmethod
    def _drop_expression(fillers: str, kept_words: tuple[str, ...]) -> str:
        """Everything but letters and digits, and each filler unless it stands inside a kept word."""
        alternatives = ["[\\W_]"]
        for filler in fillers:
            guards = []
            for word in kept_words:
                for index, character in enumerate(word):
                    if character != filler:
                        continue
                    before, after = word[:index], word[index + 1 :]
                    guard = f"(?<={re.escape(before)})" if before else ""
                    guard += re.escape(filler)
                    guard += f"(?={re.escape(after)})" if after else ""
                    guards.append(guard)
            if guards:
                alternatives.append(f"(?!{'|'.join(guards)}){re.escape(filler)}")
            else:
                alternatives.append(re.escape(filler))
        plain = [alternative for alternative in alternatives[1:] if len(alternative) == 1]
        guarded = [alternative for alternative in alternatives[1:] if len(alternative) != 1]
        expression = "[\\W_" + "".join(plain) + "]" if plain else "[\\W_]"
        return "|".join([expression, *guarded])

    def fold(self, text: str) -> str:
        if self._needs_folding.search(text) is None:
            return text
        return text.translate(self.table)

    def compact(self, text: str) -> str:
        """The matching form alone (for patterns and guards, which need no map back)."""
        return self._drop.sub("", self.fold(text))

    def normalise(self, text: str) -> Normalised:
        folded = self.fold(text)
        return Normalised(text, folded, self._drop.sub("", folded), self._drop)
