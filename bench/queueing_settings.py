"""Settings for the uvicorn process of bench/queueing.py: the project's settings with pooled connections.

Under ASGI, Django runs each request's synchronous code in a thread of its own, so a persistent
connection (CONN_MAX_AGE) is opened per request and never reused. With psycopg_pool installed the
bench serves HTTP through Django's connection pool (OPTIONS["pool"], CONN_MAX_AGE=0), which is what an
ASGI deployment should use; without it, CONN_MAX_AGE=0 at least closes each request's connection.
"""

from servicehall.config.settings import *  # noqa: F403
from servicehall.config.settings import DATABASES

try:
    import psycopg_pool  # noqa: F401

    POOLED = True
except ImportError:
    POOLED = False

DATABASES["default"]["CONN_MAX_AGE"] = 0
if POOLED:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 4, "max_size": 24, "timeout": 30}
