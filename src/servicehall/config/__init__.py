"""Django project configuration: settings from environment variables, URL map, ASGI/WSGI entry points."""
