from __future__ import annotations

from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("counter/", views.counter, name="counter"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/send/", views.send_now, name="send"),
    path("<int:pk>/stop/", views.stop, name="stop"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/test/", views.send_test, name="send-test"),
]
