from __future__ import annotations

from django.urls import path

from . import views

app_name = "callbacks"

urlpatterns = [
    path("sms/<str:token>/", views.receive, name="receive"),
]
