"""Campaign pages (marketers and admins). Views validate a form, call campaigns.services,
render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from accounts.roles import MANAGE_CAMPAIGNS
from audiences.models import Contact
from stats.figures import campaign_figures

from . import links, segments, services
from .compose import link_base
from .forms import SEND_LATER, CampaignForm, SendTestForm
from .models import Campaign, CampaignStatus, MessageState

marketers = permission_required(MANAGE_CAMPAIGNS, raise_exception=True)
LIVE = (CampaignStatus.SENDING, CampaignStatus.SCHEDULED)


@marketers
def campaign_list(request):
    campaigns = (
        Campaign.objects.select_related("provider", "audience")
        .annotate(sent=Count("messages", filter=Q(messages__state=MessageState.SENT)))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(campaigns, 25).get_page(request.GET.get("page"))
    # Delivery rate from the stats rollups, over all time: one grouped query for the page.
    page.object_list = list(page.object_list)
    lifetime = campaign_figures(page.object_list)
    for campaign in page.object_list:
        campaign.figures = lifetime[campaign.pk]
    return render(request, "campaigns/list.html", {"page": page})


@marketers
def campaign_new(request):
    return _campaign_form(request, None)


@marketers
def campaign_edit(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, "Only a draft can be edited.")
        return redirect("campaigns:detail", pk=pk)
    return _campaign_form(request, campaign)


def _initial_of(campaign: Campaign) -> dict:
    initial = {
        "name": campaign.name,
        "provider": campaign.provider_id,
        "audience": campaign.audience_id,
        "body": campaign.body,
        "template_id": campaign.template_id,
        "template_variables": campaign.template_variables,
        "click_tracking": campaign.click_tracking,
    }
    initial.update({f"custom_{k}": v for k, v in campaign.custom_values.items()})
    return initial


def _campaign_form(request, campaign: Campaign | None):
    """GET shows the form; POST `_action=refresh` redraws it for a new provider or audience
    (htmx or plain post); `_action=draft` saves a draft; otherwise save and send/schedule."""
    template = "campaigns/form.html"
    context = {"campaign": campaign}
    if request.method != "POST":
        initial = _initial_of(campaign) if campaign else {}
        return render(request, template, {**context, "form": CampaignForm(initial=initial)})

    action = request.POST.get("_action", "send")
    if action == "refresh":
        form = CampaignForm(initial=request.POST.dict())
        page = f"{template}#campaign-form" if request.htmx else template
        return render(request, page, {**context, "form": form})

    form = CampaignForm(request.POST)
    if not form.is_valid():
        page = f"{template}#campaign-form" if request.htmx else template
        return render(request, page, {**context, "form": form})
    campaign = services.save_draft(form, request.user, campaign)
    if action == "draft":
        messages.success(request, f"Draft “{campaign.name}” saved.")
    elif form.cleaned_data["when"] == SEND_LATER:
        services.schedule(campaign, form.cleaned_data["send_at"])
        messages.success(request, f"“{campaign.name}” is scheduled.")
    else:
        services.launch(campaign)
        messages.success(request, f"“{campaign.name}” is sending.")
    target = campaign.get_absolute_url()
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@marketers
@require_POST
def counter(request):
    """The live length counter under the message: encoding and SMS segments, counted on the
    message as the audience's first contact would get it."""
    body = request.POST.get("body", "").replace("\r\n", "\n")  # as the form saves it
    contact = None
    audience_id = request.POST.get("audience", "")
    if audience_id.isdigit():
        contact = Contact.objects.filter(audience_id=audience_id).order_by("id").first()
    preview = services.preview_body(body, contact.attributes if contact else None)
    if request.POST.get("click_tracking"):
        preview = links.tracked_length_preview(preview, link_base())
    return render(
        request,
        "campaigns/_counter.html",
        {"count": segments.count(preview), "preview": preview, "contact": contact},
    )


@marketers
def campaign_detail(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("provider", "audience"), pk=pk)
    context = {
        "campaign": campaign,
        "progress": services.progress(campaign),
        "live": campaign.status in LIVE,
        "test_form": SendTestForm(),
        "provider_problem": services.provider_problem(campaign),
        "one_text_note": services.one_text_note(campaign),
    }
    if request.htmx and request.GET.get("part") == "progress":
        if not context["live"]:  # it just finished or paused: show the whole page anew
            return HttpResponseClientRefresh()
        return render(request, "campaigns/detail.html#progress", context)
    return render(request, "campaigns/detail.html", context)


@marketers
@require_POST
def send_now(request, pk: int):
    return _start(request, pk, services.launch, "is sending")


@marketers
@require_POST
def stop(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    skipped = services.stop(campaign, f"Stopped by {request.user.get_username()}.")
    messages.success(request, f"“{campaign.name}” stopped; {skipped:,} messages were not sent.")
    return redirect(campaign.get_absolute_url())


@marketers
@require_POST
def resume(request, pk: int):
    return _start(request, pk, services.resume, "is sending again")


def _start(request, pk: int, start, done: str):
    """Launch or resume the campaign, or say why its provider cannot send it."""
    campaign = get_object_or_404(Campaign.objects.select_related("provider"), pk=pk)
    problem = services.provider_problem(campaign)
    if problem:
        messages.error(request, problem)
    elif start(campaign):
        messages.success(request, f"“{campaign.name}” {done}.")
    return redirect(campaign.get_absolute_url())


@marketers
@require_POST
def send_test(request, pk: int):
    """Send a test of the campaign to one number, synchronously, and show the outcome."""
    campaign = get_object_or_404(Campaign.objects.select_related("provider"), pk=pk)
    form = SendTestForm(request.POST)
    result = None
    if form.is_valid():
        try:
            result = services.send_test(campaign, form.cleaned_data["number"])
        except services.ProviderUnavailable as exc:
            form.add_error(None, str(exc))
    context = {
        "campaign": campaign,
        "test_form": form,
        "result": result,
        "provider_problem": services.provider_problem(campaign),
    }
    if request.htmx:
        return render(request, "campaigns/detail.html#send-test", context)
    return render(
        request, "campaigns/detail.html", {**context, "progress": services.progress(campaign)}
    )
