from __future__ import annotations

from django.urls import path

from . import views

app_name = "providers"

urlpatterns = [
    path("", views.provider_list, name="list"),
    path("add/", views.choose_kind, name="add"),
    path("add/<str:kind>/", views.add_provider, name="add-kind"),
    path("add/preset/<slug:slug>/", views.add_from_preset, name="add-preset"),
    path("<int:pk>/", views.edit_provider, name="edit"),
    path("<int:pk>/default/", views.mark_default, name="mark-default"),
    path("<int:pk>/archive/", views.archive_provider, name="archive"),
    path("<int:pk>/delete/", views.delete_provider, name="delete"),
    path("<int:pk>/test-sms/", views.test_sms, name="test-sms"),
    path("<int:pk>/rotate-callback/", views.rotate_callback, name="rotate-callback"),
]
