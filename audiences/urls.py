from __future__ import annotations

from django.urls import path

from . import views

app_name = "audiences"

urlpatterns = [
    path("", views.audience_list, name="list"),
]
