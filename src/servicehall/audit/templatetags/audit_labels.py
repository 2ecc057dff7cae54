"""Template filters of the audit pages."""

from __future__ import annotations

from django import template

from servicehall.audit.labels import action_label

register = template.Library()


@register.filter
def audit_action_label(code: str) -> str:
    """``{{ entry.action|audit_action_label }}``: the Chinese name of an action code, or the code."""
    return action_label(str(code))
