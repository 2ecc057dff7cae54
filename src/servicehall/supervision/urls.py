from django.urls import path

from servicehall.supervision import public_views, views

app_name = "supervision"
urlpatterns = [
    path("", views.start_view, name="start"),
    path("complaints/", views.complaint_list_view, name="complaint_list"),
    path("complaints/new/", views.complaint_create_view, name="complaint_create"),
    path("complaints/<int:complaint_id>/", views.complaint_detail_view, name="complaint_detail"),
    path("complaints/<int:complaint_id>/act/", views.complaint_action_view, name="complaint_action"),
    path("inspections/", views.inspection_list_view, name="inspection_list"),
    path("inspections/new/", views.inspection_create_view, name="inspection_create"),
    path("inspections/<int:inspection_id>/", views.inspection_detail_view, name="inspection_detail"),
    path("inspections/photos/<int:photo_id>/", views.inspection_photo_view, name="inspection_photo"),
    path("record/", views.my_record_view, name="my_record"),
    path("record/<int:staff_id>/", views.staff_record_view, name="staff_record"),
    path("violations/new/", views.violation_create_view, name="violation_create"),
    path("violations/<int:violation_id>/appeal/", views.appeal_view, name="appeal"),
    path("appeals/", views.appeal_list_view, name="appeal_list"),
    path("appeals/<int:appeal_id>/decide/", views.appeal_decide_view, name="appeal_decide"),
    path("escalations/", views.escalation_list_view, name="escalation_list"),
    path("escalations/<int:proposal_id>/decide/", views.escalation_decide_view, name="escalation_decide"),
    path("surveys/", views.survey_tally_view, name="survey_tally"),
    path("surveys/manage/", views.survey_manage_view, name="survey_manage"),
    path("public/complaint/", public_views.complaint_form_view, name="public_complaint"),
    path("public/lookup/", public_views.complaint_lookup_view, name="public_lookup"),
    path("public/survey/<int:survey_id>/", public_views.survey_view, name="public_survey"),
]
