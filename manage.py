#!/usr/bin/env python
"""Django's command-line utility for developers; operators use the `servicehall` command."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
    os.environ.setdefault("SERVICEHALL_DEPLOYMENT", "local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
