"""A referral received: one per submission, linked to a live referral for the same person."""

import logging
import secrets
import uuid
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr.deadlines import decision_due_for
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import User
from dsr.queries import same_person
from referrals.models import (
    Referral,
    ReferralAttachment,
    ReferralContact,
    ReferralTransition,
)

logger = logging.getLogger(__name__)


def _new_reference(year: int) -> str:
    # Random, not sequential: a reference must not give away how many referrals there are or
    # let anyone guess another. Uniqueness is the database's job (the save retries).
    return f"DSR-{year}-{secrets.randbelow(900_000) + 100_000}"


def _live_match(fields: dict[str, Any]) -> Referral | None:
    """The first live referral for the same person (DOMAIN 3: one person, one live referral)."""
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
) -> Referral:
    """Save a referral with its contacts and attachments, all or nothing.

    The same `submission_token` twice (a double click, a resubmitted page, two requests at
    once) returns the first referral and writes nothing more. A referral for someone who already
    has a live one is saved and linked to it (`duplicate_of`), so nothing entered is lost.
    """
    existing = Referral.objects.filter(submission_token=submission_token).first()
    if existing is not None:
        return existing
    received_at = received_at or timezone.now()
    for _ in range(5):
        saved_files: list[str] = []
        try:
            with transaction.atomic():
                referral = Referral(
                    **fields,
                    reference=_new_reference(timezone.localdate(received_at).year),
                    submission_token=submission_token,
                    source=source,
                    referrer_kind=referrer_kind,
                    received_at=received_at,
                    decision_due=decision_due_for(received_at),
                    submitted_by=submitted_by,
                    entered_by=entered_by,
                    duplicate_of=_live_match(fields),
                )
                set_change_reason(referral, "Referral received", by=entered_by or submitted_by)
                referral.save()
                ReferralTransition.objects.create(
                    referral=referral,
                    from_status="",
                    to_status=Referral.Status.RECEIVED,
                    by=entered_by or submitted_by,
                    reason=f"Received: {referral.get_source_display().lower()}",
                )
                for fields in contacts:
                    contact = ReferralContact(referral=referral, **fields)
                    set_change_reason(contact, "Referral received", by=entered_by or submitted_by)
                    contact.save()
                for upload in attachments or []:
                    saved_files.append(_attach(referral, upload).file.name)
        except IntegrityError as exc:
            for name in saved_files:  # the rows rolled back: their files go too
                default_storage.delete(name)
            existing = Referral.objects.filter(submission_token=submission_token).first()
            if existing is not None:
                return existing
            if "reference" not in str(exc):
                logger.warning("referral refused by a database rule: %s", type(exc).__name__)
                raise RegisterError(
                    "The referral could not be saved: check every contact has a way to reach "
                    "them, then send it again."
                ) from exc
            continue  # the random reference was taken: draw another
        logger.info("referral received referral=%s source=%s", referral.pk, source)
        return referral
    raise RuntimeError("Could not allocate a referral reference after 5 attempts.")


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
