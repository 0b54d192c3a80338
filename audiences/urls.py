from __future__ import annotations

from django.urls import path

from . import views

app_name = "audiences"

urlpatterns = [
    path("", views.audience_list, name="list"),
    path("import/", views.new_import, name="new-import"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/rejected.csv", views.rejected_csv, name="rejected-csv"),
    path("<int:pk>/", views.audience_detail, name="detail"),
]
