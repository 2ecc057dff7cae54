from django.urls import path

from servicehall.conduct import views

app_name = "conduct"
urlpatterns = [
    path("reply/", views.reply_view, name="reply"),
    path("reply/check/", views.reply_check_view, name="reply_check"),
    path("transcripts/", views.transcripts_view, name="transcripts"),
    path("coach/", views.coach_view, name="coach"),
    path("phrases/", views.phrases_view, name="phrases"),
    path("phrases/<int:phrase_id>/remove/", views.phrase_remove_view, name="phrase_remove"),
    path("findings/", views.findings_view, name="findings"),
    path("findings/<int:finding_id>/confirm/", views.finding_confirm_view, name="finding_confirm"),
]
