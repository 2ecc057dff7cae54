"""The JSON API for devices and integrations (django-ninja): thin, over each app's actions."""
