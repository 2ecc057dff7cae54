"""Row-level scoping: the one queryset method every staff-facing query goes through (as NetBox's restrict()).

It asks the user two things, duck-typed so that this app does not import ``accounts``:
``has_capability(capability)`` and ``accessible_site_ids()``.
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models


class SiteScopedQuerySet(models.QuerySet):
    """A queryset of rows that belong to a site; ``site_lookup`` names the path to the site id."""

    site_lookup = "site_id"

    def restrict(self, user: Any, capability: str | None = None) -> Self:
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        if capability is not None and not user.has_capability(capability):
            return self.none()
        return self.filter(**{f"{self.site_lookup}__in": user.accessible_site_ids()})


class SiteQuerySet(SiteScopedQuerySet):
    site_lookup = "pk"
