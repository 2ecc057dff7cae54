"""Exit 0 if the PostgreSQL server named by a database URL answers, 1 otherwise (used by `make test`)."""

from __future__ import annotations

import sys

import dj_database_url
import psycopg


def reachable(url: str) -> bool:
    settings = dj_database_url.parse(url)
    try:
        connection = psycopg.connect(
            host=settings.get("HOST") or None,
            port=settings.get("PORT") or None,
            user=settings.get("USER") or None,
            password=settings.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        )
    except psycopg.Error:
        return False
    connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and reachable(sys.argv[1]) else 1)
