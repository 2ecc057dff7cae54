"""Fixtures for the conduct tests: a fresh rule-set cache for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servicehall.conduct import service


@pytest.fixture(autouse=True)
def _fresh_ruleset_cache() -> Iterator[None]:
    """Extra phrases live in the database, which each test rolls back; the cached rule set must follow."""
    service._state["ruleset"] = None
    yield
    service._state["ruleset"] = None
