"""A referral received: one per submission, linked to a live referral for the same person."""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from dsr.deadlines import decision_due_for
from dsr.history import create_with_history, set_change_reason
from dsr.models import User
from dsr.nhsuk.intake import submission_save
from dsr.queries import same_person
from referrals.models import (
    Referral,
    ReferralAttachment,
    ReferralContact,
    ReferralTransition,
)
from referrals.notifications import notify_referral_received

logger = logging.getLogger(__name__)


def _live_match(fields: dict[str, Any]) -> int | None:
    """The id of the first live referral for the same person (DOMAIN 3: one person, one live
    referral). Only the id is read; the name and date of birth are looked up by the index on
    (UPPER(family_name), date_of_birth)."""
    same = same_person(
        nhs_number=fields.get("nhs_number") or "",
        given_name=fields["given_name"],
        family_name=fields["family_name"],
        date_of_birth=fields["date_of_birth"],
    )
    return (
        Referral.objects.live()
        .filter(same, duplicate_of__isnull=True)
        .order_by("received_at", "id")
        .values_list("id", flat=True)
        .first()
    )


def referral_submit(
    *,
    fields: dict[str, Any],
    contacts: list[dict[str, Any]],
    source: str,
    referrer_kind: str,
    submission_token: uuid.UUID,
    attachments: list[UploadedFile] | None = None,
    submitted_by: User | None = None,
    entered_by: User | None = None,
    received_at: datetime | None = None,
    saved: Callable[[Referral], None] | None = None,
) -> Referral:
    """Save a referral with its contacts and attachments, all or nothing.

    The same `submission_token` twice (a double click, a resubmitted page, two requests at
    once) returns the first referral and writes nothing more. A referral for someone who already
    has a live one is saved and linked to it (`duplicate_of`), so nothing entered is lost.
    `saved(referral)` runs last in the same transaction (the public journey writes its
    visitor's session there).
    """
    # No look for the token first: the insert is refused on it, and `submission_save` then
    # returns the referral that has it (one round trip fewer for every referral sent).
    received_at = received_at or timezone.now()
    by = entered_by or submitted_by
    saved_files: list[str] = []

    def save(reference: str) -> Referral:
        saved_files.clear()
        referral = Referral(
            **fields,
            reference=reference,
            submission_token=submission_token,
            source=source,
            referrer_kind=referrer_kind,
            received_at=received_at,
            decision_due=decision_due_for(received_at),
            submitted_by=submitted_by,
            entered_by=entered_by,
            duplicate_of_id=_live_match(fields),
        )
        set_change_reason(referral, "Referral received", by=by)
        referral.save()
        ReferralTransition.objects.create(
            referral=referral,
            from_status="",
            to_status=Referral.Status.RECEIVED,
            by=by,
            reason=f"Received: {referral.get_source_display().lower()}",
        )
        saved_contacts = create_with_history(
            [ReferralContact(referral=referral, **fields) for fields in contacts],
            "Referral received",
            by=by,
        )
        for upload in attachments or []:
            saved_files.append(_attach(referral, upload).file.name)
        notify_referral_received(referral, contacts=saved_contacts)
        logger.info("referral received referral=%s source=%s", referral.pk, source)
        return referral

    def undo() -> None:
        for name in saved_files:  # the rows rolled back: their files go too
            default_storage.delete(name)

    return submission_save(
        Referral,
        submission_token=submission_token,
        prefix="DSR",
        year=timezone.localdate(received_at).year,
        save=save,
        refused="The referral could not be saved: check every contact has a way to reach them, "
        "then send it again.",
        undo=undo,
        saved=saved,
    )


def _attach(referral: Referral, upload: UploadedFile) -> ReferralAttachment:
    attachment = ReferralAttachment(
        referral=referral,
        stored_name=uuid.uuid4().hex,
        original_name=(upload.name or "attachment")[:200],
        content_type=getattr(upload, "checked_content_type", "") or upload.content_type or "",
        size=upload.size or 0,
    )
    attachment.file.save(attachment.stored_name, upload, save=False)
    attachment.save()
    return attachment
