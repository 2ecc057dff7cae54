from django.urls import path

from servicehall.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.item_list_view, name="item_list"),
    path("new/", views.item_create_view, name="item_create"),
    path("items/<int:item_id>/", views.item_edit_view, name="item_edit"),
    path("items/<int:item_id>/publish/", views.item_publish_view, name="item_publish"),
    path(
        "items/<int:item_id>/materials/<int:material_id>/sample/",
        views.material_sample_view,
        name="material_sample",
    ),
    path("export.xlsx", views.export_view, name="export"),
    path("import/", views.import_view, name="import"),
    path("sites/", views.site_list_view, name="site_list"),
    path("sites/<int:site_id>/", views.site_disclosure_view, name="site_disclosure"),
    path("sites/<int:site_id>/pledges/", views.pledges_save_view, name="pledges_save"),
    path("sites/<int:site_id>/disclosure/", views.disclosure_save_view, name="disclosure_save"),
]
