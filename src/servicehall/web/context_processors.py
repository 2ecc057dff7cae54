"""Navigation built from the user's capabilities: nobody sees a link to a page that would refuse them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.roles import Capability

NAVIGATION = [
    ("web:home", _("工作台"), Capability.VIEW_WORKBENCH),
    ("sites:list", _("服务场所"), Capability.VIEW_SITES),
    ("accounts:staff_list", _("工作人员"), Capability.VIEW_STAFF_DIRECTORY),
    ("conduct:reply", _("文明用语"), Capability.VIEW_WORKBENCH),
    ("catalog:item_list", _("事项库"), Capability.MANAGE_CATALOG),
    ("workdays:calendar", _("工作日历"), Capability.MANAGE_CALENDAR),
    ("audit:list", _("审计日志"), Capability.VIEW_AUDIT),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = []
    # Until the second factor is verified and an expired password changed, every link would only
    # bounce back to that page, so none is offered.
    gated = (
        user is not None
        and user.is_authenticated
        and ((user.two_factor_required and not user.is_verified()) or user.password_expired())
    )
    if user is not None and user.is_authenticated and not gated:
        for url_name, label, capability in NAVIGATION:
            if user.has_capability(capability):
                url = reverse(url_name)
                active = request.path == url if url_name == "web:home" else request.path.startswith(url)
                items.append({"url": url, "label": label, "active": active})
    return {"navigation_items": items, "centre_name": settings.SERVICEHALL_CENTRE_NAME}
