"""The hash chain: a canonical byte form of a record and the SHA-256 link to its predecessor.

Each record's hash covers its own fields *and* the previous record's hash, so editing, deleting
or reordering any record changes every hash after it. The canonical form must be identical for a
record as written and as read back from SQLite or PostgreSQL (jsonb reorders keys), hence sorted
keys, microsecond UTC timestamps and JSON-normalised payloads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64


def json_safe(value: Any) -> Any:
    """Turn a payload into plain JSON types so that what is hashed is exactly what is stored.

    Two things PostgreSQL would not give back as written are settled here, before hashing: jsonb keeps
    numbers as ``numeric``, so an integral float written as ``1e+20`` or ``-0.0`` reads back as the
    integer ``100000000000000000000`` or ``0.0`` (a false "tampered" from verify) — integral floats
    become integers; and jsonb and text columns refuse the NUL character — it becomes U+FFFD.
    NaN and infinities, which are not JSON, become their names.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=_default)
    return _without_nul(json.loads(text, parse_float=_canonical_number, parse_constant=str))


def _canonical_number(text: str) -> int | float | str:
    number = float(text)
    if not math.isfinite(number):
        return text
    if number.is_integer():
        return int(number)
    return number


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def without_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def timestamp_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(fields: dict[str, Any], previous_hash: str) -> str:
    canonical = json.dumps(
        {**fields, "previous_hash": previous_hash},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=_default,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
