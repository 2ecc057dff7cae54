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


def insert_columns(model: type, varying: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every column of ``model`` for an INSERT … SELECT: the given SQL expressions, else the field's default.

    The primary key is left to its sequence unless ``varying`` names it.
    """
    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in varying:
            continue
        columns.append(field.column)
        if field.column in varying:
            expressions.append(varying[field.column])
        elif field.has_default():
            default = field.get_default()
            if isinstance(default, bool):
                expressions.append("true" if default else "false")
            elif isinstance(default, int):
                expressions.append(str(default))
            elif isinstance(default, str):
                expressions.append(f"'{default}'")
            elif isinstance(default, list):
                expressions.append("'[]'::jsonb")
            elif isinstance(default, dict):
                expressions.append("'{}'::jsonb")
            else:
                expressions.append("now()")
        elif field.null:
            expressions.append("NULL")
        elif field.empty_strings_allowed:
            expressions.append("''")
        else:
            raise ValueError(f"bench needs a value for {model.__name__}.{field.column}")
    return columns, expressions
