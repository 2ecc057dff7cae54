"""ASGI entry point (uvicorn serves the project; live displays need it in later issues)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
application = get_asgi_application()
