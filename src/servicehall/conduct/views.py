"""Pages: the online reply box, transcript reports, the situation coach, the extra-phrase editor, and the
supervisor's review of findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from servicehall.accounts.models import User
from servicehall.accounts.roles import Capability
from servicehall.conduct import actions, service
from servicehall.conduct.checker import coach
from servicehall.conduct.coach import UnknownSituation
from servicehall.conduct.engine import CATEGORIES, Finding
from servicehall.conduct.models import ConductFinding, ExtraPhrase, ExtraPhraseKind
from servicehall.lib.errors import ActionRefused
from servicehall.web.decorators import staff_view

TRANSCRIPT_UPLOAD_MAX_BYTES = 1_048_576


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("回复内容"),
        max_length=actions.REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    reason = forms.CharField(
        label=gettext_lazy("仍要发送的理由"),
        max_length=actions.REASON_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("回复含禁忌用语时，须说明理由方可发送；理由与回复一并留痕。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs.update(
            {
                "hx-post": reverse("conduct:reply_check"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#reply-findings",
                "hx-swap": "innerHTML",
            }
        )


class TranscriptForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("粘贴对话"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": "员：您好，请问您要办理什么业务？\n民：我想办社保卡。"}
        ),
        help_text=gettext_lazy("每行一句，以“员:”（工作人员）或“民:”（群众）开头。"),
    )
    file = forms.FileField(
        label=gettext_lazy("或上传 .txt 文件"),
        required=False,
        help_text=gettext_lazy("UTF-8 或 GB18030 编码，不超过 1 MB。"),
    )
    subject = forms.ModelChoiceField(
        label=gettext_lazy("对话中的工作人员"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("本人"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user.has_capability(Capability.VIEW_STAFF_DIRECTORY):
            self.fields["subject"].queryset = User.objects.restrict(
                user, Capability.VIEW_STAFF_DIRECTORY
            ).order_by("staff_number")
        else:
            del self.fields["subject"]


class ExtraPhraseForm(forms.Form):
    rule_id = forms.ChoiceField(label=gettext_lazy("规则"))
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=ExtraPhraseKind.choices)
    pattern = forms.CharField(
        label=gettext_lazy("用语"),
        max_length=200,
        help_text=gettext_lazy(
            "空格分隔各部分，“|”分隔同义说法，“~N”为两部分之间最多相隔的字数。例：不归|不属于 ~4 管"
        ),
    )
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule_id"].choices = [
            (rule.rule_id, f"{rule.title}（{rule.category}）") for rule in service.current_ruleset().rules
        ]


def _page(request: HttpRequest, **context: Any) -> dict[str, Any]:
    context["can_manage_phrases"] = request.user.has_capability(actions.MANAGE_PHRASES)
    context["can_review_findings"] = request.user.has_capability(actions.REVIEW_FINDINGS)
    return context


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(problems)}"
        for name, problems in form.errors.items()
    )


def highlight(text: str, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The text cut into plain and flagged pieces, for marking the findings in a page."""
    pieces: list[dict[str, Any]] = []
    position = 0
    for finding in sorted(findings, key=lambda item: item.start):
        if finding.start < position:
            continue
        if finding.start > position:
            pieces.append({"text": text[position : finding.start], "finding": None})
        pieces.append({"text": text[finding.start : finding.end], "finding": finding})
        position = finding.end
    if position < len(text):
        pieces.append({"text": text[position:], "finding": None})
    return pieces


@staff_view(Capability.VIEW_WORKBENCH)
def reply_view(request: HttpRequest) -> HttpResponse:
    context = _page(request, form=ReplyForm(), findings=[])
    if request.method == "POST":
        form = ReplyForm(request.POST)
        context["form"] = form
        if not form.is_valid():
            return render(request, "conduct/reply.html", context, status=400)
        outcome = actions.submit_reply(request.user, form.cleaned_data["text"], form.cleaned_data["reason"])
        context["findings"] = outcome.findings
        context["pieces"] = highlight(form.cleaned_data["text"], outcome.findings)
        if outcome.sent:
            if outcome.overridden is not None:
                messages.warning(request, _("回复已发送；含禁忌用语，理由已留痕。"))
            else:
                messages.success(request, _("回复已发送。"))
            return redirect("conduct:reply")
        context["reason_required"] = True
        return render(request, "conduct/reply.html", context, status=200)
    return render(request, "conduct/reply.html", context)


@require_POST
@staff_view(Capability.VIEW_WORKBENCH)
def reply_check_view(request: HttpRequest) -> HttpResponse:
    """Check as you type (htmx): the findings of the draft, with the civil phrase to say instead."""
    text = request.POST.get("text", "")
    findings = actions.check_reply(request.user, text)
    context = {"findings": findings, "pieces": highlight(text, findings), "checked": bool(text.strip())}
    return render(request, "conduct/_findings.html", context)


@staff_view(Capability.VIEW_WORKBENCH)
def transcripts_view(request: HttpRequest) -> HttpResponse:
    context = _page(request, form=TranscriptForm(user=request.user), report=None)
    if request.method != "POST":
        return render(request, "conduct/transcripts.html", context)
    form = TranscriptForm(request.POST, request.FILES, user=request.user)
    context["form"] = form
    if not form.is_valid():
        raise ActionRefused(_form_errors(form), code="invalid")
    upload = form.cleaned_data.get("file")
    if upload is not None:
        if upload.size > TRANSCRIPT_UPLOAD_MAX_BYTES:
            raise ActionRefused(_("文件过大（不超过 1 MB）。"), code="too_large", field="file")
        text = actions.decode_transcript(upload.read())
    else:
        text = form.cleaned_data["text"]
    outcome = actions.check_transcript(request.user, text, form.cleaned_data.get("subject"))
    report = outcome.report
    context["report"] = report
    context["rows"] = [
        {"utterance": utterance, "pieces": highlight(utterance.text, utterance.findings)}
        for utterance in report.utterances
    ]
    context["conduct_finding"] = outcome.conduct_finding
    context["voice_advice"] = {
        "greeting": coach().find("接待"),
        "answers": coach().find("来访咨询"),
        "farewell": coach().find("办理完毕"),
    }
    return render(request, "conduct/transcripts.html", context)


@staff_view(Capability.VIEW_WORKBENCH)
def coach_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("situation", "").strip()
    context = _page(request, situations=coach().situations, query=query, chosen=None)
    if query:
        try:
            context["chosen"] = coach().find(query)
        except UnknownSituation as unknown:
            raise ActionRefused(
                _("未找到情形“%(query)s”。可选：%(known)s")
                % {"query": query, "known": "、".join(unknown.known)},
                code="unknown_situation",
            ) from unknown
    return render(request, "conduct/coach.html", context)


@staff_view(actions.MANAGE_PHRASES)
def phrases_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ExtraPhraseForm(request.POST)
        if not form.is_valid():
            raise ActionRefused(_form_errors(form), code="invalid")
        data = form.cleaned_data
        actions.add_extra_phrase(request.user, data["rule_id"], data["kind"], data["pattern"], data["note"])
        messages.success(request, _("已追加用语“%(pattern)s”。") % {"pattern": data["pattern"]})
        return redirect("conduct:phrases")
    ruleset = service.current_ruleset()
    context = _page(
        request,
        form=ExtraPhraseForm(),
        extra_phrases=ExtraPhrase.objects.select_related("created_by"),
        rules=ruleset.rules,
        categories=CATEGORIES,
        model=ruleset.model,
        model_trained_on=ruleset.model.trained_on if ruleset.model else {},
    )
    return render(request, "conduct/phrases.html", context)


@require_POST
@staff_view(actions.MANAGE_PHRASES)
def phrase_remove_view(request: HttpRequest, phrase_id: int) -> HttpResponse:
    actions.remove_extra_phrase(request.user, phrase_id)
    messages.success(request, _("已删除追加用语。"))
    return redirect("conduct:phrases")


@staff_view(actions.REVIEW_FINDINGS)
def findings_view(request: HttpRequest) -> HttpResponse:
    """检查发现: the findings of the sites in scope, to be confirmed by a supervisor."""
    findings = ConductFinding.objects.restrict(request.user, actions.REVIEW_FINDINGS).select_related(
        "staff", "confirmed_by"
    )
    context = _page(
        request,
        pending=findings.filter(confirmed_at__isnull=True),
        confirmed=findings.filter(confirmed_at__isnull=False).order_by("-confirmed_at")[:50],
        minimum_severity=actions.violation_min_severity(),
    )
    return render(request, "conduct/findings.html", context)


@require_POST
@staff_view(actions.REVIEW_FINDINGS)
def finding_confirm_view(request: HttpRequest, finding_id: int) -> HttpResponse:
    outcome = actions.confirm_finding(request.user, finding_id)
    if outcome.newly_confirmed:
        messages.success(request, outcome.message)
    else:
        messages.info(request, outcome.message)
    return redirect("conduct:findings")
