"""Readable names of the audit codes the conduct app records."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "conduct.finding_recorded": _("记录禁忌用语"),
    "conduct.finding_confirmed": _("确认禁忌用语检查发现"),
    "conduct.reply_overridden": _("坚持发送含禁忌用语的回复"),
    "conduct.extra_phrase_added": _("追加禁忌用语"),
    "conduct.extra_phrase_removed": _("删除追加的禁忌用语"),
}
