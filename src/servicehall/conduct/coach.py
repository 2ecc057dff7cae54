"""The situation coach: for a situation at the window or on the phone, the phrases the seeds prescribe.

Situations and phrases are data (``phrases.json``), each phrase quoted from a seed with its clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servicehall.conduct.text import Normaliser


class UnknownSituation(LookupError):
    def __init__(self, query: str, known: list[str]) -> None:
        super().__init__(f"未知情形 / unknown situation: {query!r}")
        self.query = query
        self.known = known


@dataclass(frozen=True)
class Phrase:
    text: str
    seed: str


@dataclass(frozen=True)
class Situation:
    key: str
    aliases: tuple[str, ...]
    phrases: tuple[Phrase, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "situation": self.key,
            "aliases": list(self.aliases),
            "phrases": [{"text": phrase.text, "seed": phrase.seed} for phrase in self.phrases],
        }


class Coach:
    def __init__(self, phrases_data: dict[str, Any], normaliser: Normaliser | None = None) -> None:
        self.normaliser = normaliser or Normaliser()
        self.situations = [
            Situation(
                key=raw["key"],
                aliases=tuple(raw.get("aliases", ())),
                phrases=tuple(Phrase(phrase["text"], phrase["seed"]) for phrase in raw["phrases"]),
            )
            for raw in phrases_data["situations"]
        ]

    @property
    def keys(self) -> list[str]:
        return [situation.key for situation in self.situations]

    def find(self, query: str) -> Situation:
        """The situation by its name or an alias; failing that, the one whose name the query contains or
        is contained in (“对方打错电话了” → 对方打错电话). Traditional script and punctuation do not matter."""
        wanted = self.normaliser.compact(query)
        if not wanted:
            raise UnknownSituation(query, self.keys)
        names = [
            (self.normaliser.compact(name), situation)
            for situation in self.situations
            for name in (situation.key, *situation.aliases)
        ]
        for name, situation in names:
            if name == wanted:
                return situation
        contained = [(len(name), situation) for name, situation in names if name and name in wanted]
        if contained:
            return max(contained, key=lambda pair: pair[0])[1]
        containing = [situation for name, situation in names if wanted in name]
        if containing:
            return containing[0]
        raise UnknownSituation(query, self.keys)
