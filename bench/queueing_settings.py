"""Settings for the uvicorn processes of the benchmarks: the project's settings with pooled connections.

Under ASGI, Django runs each request's synchronous code in a thread of its own, so a persistent
connection (CONN_MAX_AGE) is opened per request and never reused. A production PostgreSQL deployment
sets DATABASE_POOL_MAX_SIZE (ADR 0008); the benchmarks serve HTTP the same way.
"""

import os

os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "24")

from servicehall.config.settings import *  # noqa: E402, F403
from servicehall.config.settings import DATABASES  # noqa: E402

POOLED = "pool" in DATABASES["default"].get("OPTIONS", {})
