"""Loaded as a pytest plugin (`-p tests.environment`) before Django settings are read.

The test suite runs in the local deployment posture (generated secret, plain-HTTP cookies); the
production posture has its own tests in tests/config that start subprocesses.
"""

import os

os.environ.setdefault("SERVICEHALL_DEPLOYMENT", "local")
