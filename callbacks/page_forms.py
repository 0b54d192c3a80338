"""The filters of the callback pages (GET forms: an invalid value simply filters nothing)."""

from __future__ import annotations

from django import forms

from providers.models import Provider

from .events import EVENT_TYPES, SYSTEM_EVENTS
from .models import RequestStatus

ALL_EVENTS = [("", "All events"), *((t, SYSTEM_EVENTS[t]) for t in EVENT_TYPES)]


class EventFilterForm(forms.Form):
    type = forms.ChoiceField(label="Event type", choices=ALL_EVENTS, required=False)


class RequestFilterForm(forms.Form):
    provider = forms.ModelChoiceField(
        label="Provider",
        queryset=Provider.objects.only("pk", "nickname", "is_default"),
        required=False,
        empty_label="All providers",
    )
    status = forms.ChoiceField(
        label="Status", choices=[("", "All statuses"), *RequestStatus.choices], required=False
    )
