from django.urls import path

from servicehall.catalog import public_views

app_name = "guide"
urlpatterns = [
    path("", public_views.guide_list_view, name="list"),
    path("sites/", public_views.guide_site_list_view, name="sites"),
    path("sites/<int:site_id>/", public_views.guide_site_view, name="site"),
    path("sites/<int:site_id>/staff/", public_views.guide_site_staff_view, name="site_staff"),
    path("<str:code>/", public_views.guide_detail_view, name="detail"),
    path("<str:code>/materials/<int:position>/sample/", public_views.guide_sample_view, name="sample"),
]
