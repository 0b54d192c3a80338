"""Contact lists (audiences), their CSV imports, and opt-outs (SPEC §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


class Audience(models.Model):
    name = models.CharField(max_length=200)
    # Kept up to date by imports, so lists never count a million rows to show a number.
    contact_count = models.PositiveIntegerField(default=0)
    # Database-level on_delete here and on contacts: an audience of a million contacts must
    # not go through Django's delete collector (and campaigns point here the same way).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DB_SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), name="audience_name_unique")]
        permissions = [("manage_audiences", "Can import and manage audiences")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("audiences:detail", args=[self.pk])


class Contact(models.Model):
    """One phone number (E.164) in one audience, with the CSV's other columns as attributes
    (used to personalise messages). Opt-out is kept per number, in OptOut."""

    id = models.BigAutoField(primary_key=True)
    audience = models.ForeignKey(Audience, on_delete=models.DB_CASCADE, related_name="contacts")
    phone = models.CharField(max_length=20)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "phone"], name="contact_unique_phone")
        ]

    def __str__(self) -> str:
        return self.phone


class OptOut(models.Model):
    """A number that asked not to be texted (a STOP reply, SPEC §4). It applies to every
    audience the number is in; a START reply (re-subscribe) deletes the row."""

    phone = models.CharField(max_length=20, primary_key=True)
    opted_out_at = models.DateTimeField()
    keyword = models.CharField(max_length=20, blank=True, default="")

    def __str__(self) -> str:
        return self.phone


class ImportStatus(models.TextChoices):
    CHOOSING_COLUMNS = "choosing_columns", "Choosing columns"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Import(models.Model):
    """One CSV file imported into an audience, with its progress and outcome."""

    audience = models.ForeignKey(Audience, on_delete=models.DB_CASCADE, related_name="imports")
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    header = models.JSONField(default=list)  # the CSV's column names
    delimiter = models.CharField(max_length=1, default=",")
    phone_column = models.CharField(max_length=200, blank=True, default="")
    default_country = models.CharField(max_length=2, default="US")
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.CHOOSING_COLUMNS
    )
    size_bytes = models.BigIntegerField(default=0)
    processed_bytes = models.BigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)  # new contacts
    merged = models.PositiveIntegerField(default=0)  # rows that updated an existing contact
    rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # Times a stalled import was started again from the top (audiences/services.py).
    restarts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DB_SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Last time the worker recorded progress: a running import that went quiet is shown as stalled.
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} → {self.audience}"

    def get_absolute_url(self) -> str:
        return reverse("audiences:import", args=[self.pk])


class RejectedRow(models.Model):
    """A CSV row that did not become a contact, and why (nothing is dropped silently)."""

    id = models.BigAutoField(primary_key=True)
    source = models.ForeignKey(Import, on_delete=models.DB_CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField()  # 1-based line number in the file (header = 1)
    reason = models.CharField(max_length=200)
    raw = models.TextField()

    class Meta:
        ordering = ["line"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"
