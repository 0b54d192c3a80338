"""Provider setup pages (admins only). Views validate and call providers.services (and
campaigns.retire, which stops a provider's campaigns when it is archived or deleted)."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.roles import MANAGE_PROVIDERS
from callbacks import services as callback_services
from campaigns import retire
from stats.figures import DateRange, provider_figures

from . import registry, services
from .forms import TestSmsForm, apply_form_action
from .kinds.generic import presets
from .kinds.generic.kind import GenericKind
from .kinds.generic.preset_form import PresetInputsForm
from .models import Provider, new_callback_token

# The setup form's "Send Test SMS" button: test the configuration as typed.
TEST_SMS_ACTION = "test-sms"
# Its "Try a report" button: read a pasted sample report with the settings as typed.
TRY_REPORT_ACTION = "try-report"
# Posted by a preset's inputs page; the prefilled Generic form posts without it.
PRESET_INPUTS = "_preset_inputs"

admin_only = permission_required(MANAGE_PROVIDERS, raise_exception=True)
# Setup forms post passwords, secret keys and secret row values (as `<list>-value`, mixed
# with plain ones): error reports show none of the posted values.
hide_posted_values = sensitive_post_parameters()


@admin_only
def provider_list(request):
    providers = list(Provider.objects.all())
    # Sent and delivery rate over the last 30 days: one grouped query over the rollups.
    recent = provider_figures(providers, DateRange.last(30, timezone.localdate()))
    for provider in providers:
        provider.figures_30d = recent[provider.pk]
    return render(
        request,
        "providers/list.html",
        {
            "active": [p for p in providers if not p.is_archived],
            "archived": [p for p in providers if p.is_archived],
        },
    )


@admin_only
def choose_kind(request):
    """Generic, Twilio and the searchable gallery of presets (SPEC §5.1): `?q=` filters on
    the server, so the search works without JavaScript."""
    query = request.GET.get("q", "").strip()
    every = list(presets.all_presets().values())
    matches = {preset.slug for preset in presets.search(query)}
    context = {"kinds": registry.kinds().values(), "presets": every, "matches": matches}
    return render(request, "providers/choose_kind.html", {**context, "q": query})


@hide_posted_values
@admin_only
@sensitive_variables()
def add_from_preset(request, slug: str):
    """A preset's inputs page; once they are valid, the Generic setup form prefilled from the
    preset and unsaved. That form posts back here and saves as Add Generic does."""
    preset = presets.get(slug)
    if preset is None:
        raise Http404("Unknown preset")
    if request.method == "POST" and PRESET_INPUTS not in request.POST:
        return _setup_form(request, GenericKind, provider=None)
    form = PresetInputsForm(preset, request.POST if request.method == "POST" else None)
    if not form.is_valid():
        context = {"preset": preset, "form": form, "preset_inputs": PRESET_INPUTS}
        return render(request, "providers/preset_inputs.html", context)
    token = new_callback_token()
    config = preset.fill(form.cleaned_data)
    setup = GenericKind.form_class(presets.form_data(preset, config, token))
    setup.skip_validation()  # nothing typed wrong yet: no errors on a fresh page
    return render(
        request, GenericKind.template, {**_setup_context(GenericKind, None), "form": setup}
    )


@hide_posted_values
@admin_only
def add_provider(request, kind: str):
    if kind not in registry.kinds():
        raise Http404("Unknown provider kind")
    return _setup_form(request, registry.kinds()[kind], provider=None)


@hide_posted_values
@admin_only
def edit_provider(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    if provider.is_archived:
        return render(request, "providers/archived.html", {"provider": provider})
    return _setup_form(request, registry.kind_of(provider), provider=provider)


@sensitive_variables()
def _setup_form(request, kind, provider):
    """GET shows the form; POST with `_action` refreshes it in place (htmx or plain post);
    POST without it validates and saves."""
    form_class = kind.form_class
    template = kind.template
    context = _setup_context(kind, provider)
    if request.method != "POST":
        form = form_class(provider=provider)
        return render(request, template, {**context, "form": form})

    action = request.POST.get("_action", "")
    if action == TEST_SMS_ACTION:
        return _test_unsaved(request, kind, provider, template, context)
    if action == TRY_REPORT_ACTION and context["trial_form"] is not None:
        return _try_report(request, kind, provider, template, context)
    if action:
        form = form_class(apply_form_action(request.POST, action), provider=provider)
        form.skip_validation()
        fragment = "#custom-tokens" if action == "tokens" else "#provider-form"
        page = f"{template}{fragment}" if request.htmx else template
        return render(request, page, {**context, "form": form})

    form = form_class(request.POST, provider=provider)
    if not form.is_valid():
        page = f"{template}#provider-form" if request.htmx else template
        return render(request, page, {**context, "form": form})
    saved = services.save_from_form(form, request.user)
    messages.success(request, f"Provider “{saved.nickname}” saved.")
    target = saved.get_absolute_url()
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


def _setup_context(kind, provider) -> dict:
    saved_tokens = kind.custom_tokens(provider.config) if provider else []
    return {
        "kind": kind,
        "provider": provider,
        "test_form": TestSmsForm(custom_tokens=saved_tokens, prefix="test"),
        "trial_form": kind.report_trial_form(),
        "auth_retry_minutes": f"{settings.DISPATCH_AUTH_RETRY_INTERVAL / 60:g}",
        "auth_window_minutes": f"{settings.DISPATCH_AUTH_RETRY_WINDOW / 60:g}",
    }


@admin_only
@require_POST
def mark_default(request, pk: int):
    provider = get_object_or_404(Provider.objects.active(), pk=pk)
    services.mark_default(provider, request.user)
    messages.success(request, f"“{provider.nickname}” is now the default provider.")
    return redirect("providers:list")


@admin_only
def archive_provider(request, pk: int):
    provider = get_object_or_404(Provider.objects.active(), pk=pk)
    if request.method == "POST":
        retire.archive_provider(provider, request.user)
        messages.success(request, f"“{provider.nickname}” archived.")
        return redirect("providers:list")
    return render(request, "providers/confirm_archive.html", {"provider": provider})


@admin_only
def delete_provider(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm_nickname", "").strip() == provider.nickname:
            retire.delete_provider(provider, request.user)
            messages.success(request, f"“{provider.nickname}” deleted.")
            return redirect("providers:list")
        error = "Type the provider's nickname exactly to confirm."
    return render(request, "providers/confirm_delete.html", {"provider": provider, "error": error})


@admin_only
@require_POST
def rotate_callback(request, pk: int):
    provider = get_object_or_404(Provider.objects.active(), pk=pk)
    services.rotate_callback_token(provider, request.user)
    messages.success(request, "New callback URL created. The old one no longer works.")
    return redirect(provider.get_absolute_url())


@hide_posted_values
@admin_only
@sensitive_variables()
def test_sms(request, pk: int):
    """Send Test SMS for a saved provider: the dialog (GET) and its outcome (POST)."""
    provider = get_object_or_404(Provider.objects.active(), pk=pk)
    kind = registry.kind_of(provider)
    tokens = kind.custom_tokens(provider.config)
    form = TestSmsForm(request.POST or None, custom_tokens=tokens, prefix="test")
    result = None
    if request.method == "POST" and form.is_valid():
        result = _send_test(
            provider.kind,
            provider.config,
            provider.readable_secrets() or {},
            provider.callback_url,
            form,
            f"provider-{provider.pk}",
        )
    page = "providers/test_sms.html#test-sms" if request.htmx else "providers/test_sms.html"
    return render(request, page, {"provider": provider, "test_form": form, "result": result})


@sensitive_variables()
def _test_unsaved(request, kind, provider, template, context):
    """Send Test SMS from the setup form: the configuration as typed, not yet saved."""
    form = kind.form_class(request.POST, provider=provider)
    config = form.to_config() if form.is_valid() else None
    tokens = kind.custom_tokens(config or {})
    test_form = TestSmsForm(request.POST, custom_tokens=tokens, prefix="test")
    result = None
    if config is not None and test_form.is_valid():
        saved = (provider.readable_secrets() or {}) if provider else {}
        typed = form.typed_secrets()
        secrets = {name: typed[name] or saved.get(name, "") for name in typed}
        result = _send_test(
            kind.key,
            config,
            secrets,
            form.default_callback_url,
            test_form,
            f"unsaved-{request.user.pk}",
        )
    page = f"{template}#provider-form" if request.htmx else template
    context = {**context, "form": form, "test_form": test_form, "result": result}
    return render(request, page, context)


def _try_report(request, kind, provider, template, context):
    """Try a report from the setup form: nothing is saved or recorded."""
    form = kind.form_class(request.POST, provider=provider)
    form.is_valid()
    trial_form = kind.report_trial_form(request.POST)
    trial = None
    if trial_form.is_valid():
        match = partial(callback_services.match_events, provider) if provider else None
        trial = kind.try_report(form, trial_form, match)
    page = f"{template}#provider-form" if request.htmx else template
    context = {**context, "form": form, "trial_form": trial_form, "trial": trial}
    return render(request, page, context)


@sensitive_variables()
def _send_test(kind, config, secrets, callback_url, form, session_key):
    return services.send_test_sms(
        kind,
        config,
        secrets,
        callback_url=callback_url,
        to=form.cleaned_data["to"],
        message=form.cleaned_data["message"],
        custom_values=form.custom_values(),
        session_key=session_key,
    )
