"""The rule set the application uses: the reviewed rules plus the centre's extra phrases, cached per process.

Adding or removing an extra phrase bumps a version in the cache (shared through Redis when configured),
and each process rebuilds its rule set (tens of milliseconds) the next time it checks a text.
"""

from __future__ import annotations

import threading

from django.core.cache import cache

from servicehall.conduct.checker import base_ruleset, build_ruleset
from servicehall.conduct.engine import ExtraPhrase, RuleSet

VERSION_KEY = "servicehall:conduct:version"
_lock = threading.Lock()
_state: dict[str, object] = {"version": None, "ruleset": None}


def extra_phrases() -> list[ExtraPhrase]:
    from servicehall.conduct.models import ExtraPhrase as ExtraPhraseRow

    return [
        ExtraPhrase(rule_id, kind, pattern)
        for rule_id, kind, pattern in ExtraPhraseRow.objects.values_list("rule_id", "kind", "pattern")
    ]


def build_current() -> RuleSet:
    extra = extra_phrases()
    return build_ruleset(extra) if extra else base_ruleset()


def current_ruleset() -> RuleSet:
    version = cache.get(VERSION_KEY, 0)
    ruleset = _state["ruleset"]
    if ruleset is not None and _state["version"] == version:
        return ruleset  # type: ignore[return-value]
    with _lock:
        ruleset = build_current()
        _state["ruleset"] = ruleset
        _state["version"] = version
    return ruleset


def invalidate() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)
    _state["ruleset"] = None
