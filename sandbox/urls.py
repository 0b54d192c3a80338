from __future__ import annotations

from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("sms/", views.send, name="send"),
]
