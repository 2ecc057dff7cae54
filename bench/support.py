"""What several benchmarks share: a scratch PostgreSQL database and the percentile of a sample."""

from __future__ import annotations

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def create_database(name: str) -> None:
    """Create ``name`` afresh (dropping a leftover from an interrupted run)."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile; NaN for an empty sample."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
