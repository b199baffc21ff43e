"""Who is told a referral's outcome (DOMAIN.md section 5), and how: by email or by letter,
in the format they asked for. The same people are sent the acknowledgement when the referral
arrives. A decision is refused while anyone the rule names cannot be reached."""

from dataclasses import dataclass, replace
from datetime import date

from django.utils import timezone

from dsr.deadlines import age_on
from dsr.exceptions import RegisterError
from dsr.models import Consent, Notification
from dsr.models.notifications import REASONS_LETTER_SUFFIX
from dsr.nhsuk.validators import postal_address, postcode_in, uk_mobile
from referrals.models import Referral, ReferralContact


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    role: str
    email: str
    address: str
    accessible_format: str
    prefers_letter: bool
    is_person: bool = False
    # The mobile number they asked to be sent text messages at, or "" when they did not ask.
    texts_to: str = ""
    # They made the referral (`made_the_referral`).
    referred: bool = False

    @property
    def can_post(self) -> bool:
        """A letter can be posted to them: their address ends with a full postcode."""
        return bool(postcode_in(self.address))

    @property
    def channel(self) -> str:
        if self.can_post and (self.prefers_letter or not self.email):
            return Notification.Channel.LETTER
        return Notification.Channel.EMAIL

    @property
    def reachable(self) -> bool:
        return bool(self.email or self.can_post)


@dataclass(frozen=True)
class OutcomeMessage:
    """One message a decision sends: to whom, by letter or email, and whether it gives the
    reasons. Emails never give them (ACCESS.md): a not-eligible decision also posts a letter
    with the reasons to everyone told by email who has a postal address."""

    recipient: Recipient
    letter: bool
    gives_reasons: bool
    # An email that says a letter with the reasons is on its way to them.
    reasons_follow: bool = False

    @property
    def key(self) -> str:
        both = self.letter and self.recipient.channel == Notification.Channel.EMAIL
        return f"{self.recipient.key}{REASONS_LETTER_SUFFIX}" if both else self.recipient.key


def outcome_messages(recipients: list[Recipient], outcome: str) -> list[OutcomeMessage]:
    """The messages `outcome` sends `recipients`: the staff decision page shows this list
    before the decision is made, and `notify_referral_outcome` queues it."""
    reasons = outcome in (Referral.Status.NOT_ELIGIBLE, Referral.Status.WITHDRAWN)
    planned = []
    for recipient in recipients:
        letter = recipient.channel == Notification.Channel.LETTER
        follow = outcome == Referral.Status.NOT_ELIGIBLE and not letter and recipient.can_post
        planned.append(
            OutcomeMessage(
                recipient, letter=letter, gives_reasons=reasons and letter, reasons_follow=follow
            )
        )
        if follow:
            planned.append(OutcomeMessage(recipient, letter=True, gives_reasons=True))
    return planned


def _rule_includes(
    contact: ReferralContact, referral: Referral, age: int, has_representative: bool
) -> bool:
    best_interests = referral.consent_basis == Consent.Basis.BEST_INTERESTS
    if contact.role == ReferralContact.Role.PERSON:
        can_be_told = age >= 16 or referral.consent_basis == Consent.Basis.GILLICK
        return can_be_told and not (best_interests and has_representative)
    if contact.role == ReferralContact.Role.REPRESENTATIVE:
        return best_interests
    if age < 18 and contact.has_parental_responsibility:
        return True
    return contact.named_by_person


def made_the_referral(recipient: Recipient, referral: Referral) -> bool:
    """Whether `recipient` is who made the referral: the referrer, the person who referred
    themselves, or the contact the referrer is listed as (the same email, or the same name at the
    same address: a parent's partner at the same home did not make it)."""
    if recipient.key == "referrer":
        return True
    if recipient.is_person:
        return referral.referrer_kind == Referral.ReferrerKind.SELF
    if referral.referrer_kind != Referral.ReferrerKind.FAMILY:
        return False
    email = referral.referrer_email.strip().lower()
    if email and recipient.email.strip().lower() == email:
        return True
    return (
        bool(referral.referrer_address.strip())
        and recipient.name.strip().lower() == referral.referrer_name.strip().lower()
        and recipient.address.strip().lower() == referral.referrer_address.strip().lower()
    )


def outcome_recipients(
    referral: Referral,
    *,
    on: date | None = None,
    contacts: list[ReferralContact] | None = None,
) -> list[Recipient]:
    """Who is told the outcome, by DOMAIN.md section 5:

    - the person, at 16 or over or a Gillick-competent child, unless a best-interests decision
      names a representative, who is told instead;
    - every contact with parental responsibility while the person is under 18;
    - any contact the person (or the best-interests decision) names;
    - the referrer, when a professional or when the person agreed they may be told;
    - then staff's additions and removals, each with its reason.
    Someone listed twice (the same email or address) is told once.
    `contacts`: the referral's contacts, when the caller holds them all (otherwise read).
    """
    age = age_on(referral.date_of_birth, on or timezone.localdate())
    formats = referral.accessible_formats or []
    person_format = (
        "easy_read"
        if "easy_read" in formats
        else ("large_print" if "large_print" in formats else "standard")
    )
    chosen: list[Recipient] = []
    contacts = list(referral.contacts.all()) if contacts is None else contacts
    has_representative = any(c.role == ReferralContact.Role.REPRESENTATIVE for c in contacts)
    for contact in contacts:
        include = _rule_includes(contact, referral, age, has_representative)
        if contact.override:
            include = contact.override == "include"
        if include:
            chosen.append(
                Recipient(
                    key=f"contact-{contact.pk}",
                    name=contact.name,
                    role=contact.relationship.strip().capitalize() or contact.get_role_display(),
                    email=contact.email,
                    address=contact.address,
                    # The person's format is what the referral says they need, or what was
                    # asked for them as a contact (a paper referral may say only that).
                    accessible_format=person_format
                    if contact.role == ReferralContact.Role.PERSON and person_format != "standard"
                    else contact.preferred_format,
                    prefers_letter=contact.prefers_letter,
                    is_person=contact.role == ReferralContact.Role.PERSON,
                    texts_to=uk_mobile(contact.phone) if contact.wants_texts else "",
                )
            )
    if not any(c.role == ReferralContact.Role.PERSON for c in contacts) and referral.address:
        # Entered on paper or by phone without a contact for the person: they are still told,
        # at the address on the referral, on the same rule as a contact.
        best_interests_rep = referral.consent_basis == Consent.Basis.BEST_INTERESTS and (
            has_representative
        )
        if (age >= 16 or referral.consent_basis == Consent.Basis.GILLICK) and not (
            best_interests_rep
        ):
            chosen.append(
                Recipient(
                    key="person",
                    name=referral.full_name,
                    role=ReferralContact.Role.PERSON.label,
                    email="",
                    address=postal_address(referral.address, referral.postcode),
                    accessible_format=person_format,
                    prefers_letter=True,
                    is_person=True,
                )
            )
    referrer_told = (
        referral.referrer_kind == Referral.ReferrerKind.PROFESSIONAL or referral.outcome_to_referrer
    )
    referrer = None
    if referrer_told and (referral.referrer_email or referral.referrer_address):
        referrer = Recipient(
            key="referrer",
            name=referral.referrer_name,
            role="Referrer",
            email=referral.referrer_email,
            address=referral.referrer_address,
            accessible_format=person_format
            if referral.referrer_kind == Referral.ReferrerKind.SELF
            else "standard",
            prefers_letter=False,
            is_person=referral.referrer_kind == Referral.ReferrerKind.SELF,
        )
    # The same contact listed twice (same name and the same way to reach them) is told once;
    # people sharing a home address are each told. The referrer is left out when they are
    # already on the list by the same email or address (a person referring themselves).
    unique: dict[tuple[str, str], Recipient] = {}
    for recipient in chosen:
        where = (recipient.email or recipient.address).strip().lower()
        unique.setdefault((recipient.name.strip().lower(), where), recipient)
    recipients = list(unique.values())
    if referrer is not None:
        reach = {r.email.lower() for r in recipients if r.email} | {
            r.address.strip().lower() for r in recipients if r.address
        }
        if not (
            (referrer.email and referrer.email.lower() in reach)
            or (referrer.address and referrer.address.strip().lower() in reach)
        ):
            recipients.append(referrer)
    return [replace(r, referred=made_the_referral(r, referral)) for r in recipients]


def not_told_yet(recipients: list[Recipient], told: set[str]) -> list[Recipient]:
    """`recipients` less anyone already reached at one of `told` (emails and postal addresses,
    as `reached_at` gives them): a referral linked to another for the same person tells each
    person once."""
    return [r for r in recipients if not reached_at(r) & told]


def reached_at(recipient: Recipient) -> set[str]:
    return {where.strip().lower() for where in (recipient.email, recipient.address) if where}


def reachable_recipients(referral: Referral) -> list[Recipient]:
    """Everyone the rule says to tell, refusing the decision if anyone cannot be reached: no
    one is dropped from the outcome without staff deciding so."""
    recipients = outcome_recipients(referral)
    if not recipients:
        raise RegisterError(
            "Nobody would be told this outcome. Add someone to tell before deciding."
        )
    unreachable = [r.name for r in recipients if not r.reachable]
    if unreachable:
        raise RegisterError(
            f"No email address, or postal address with a postcode, for {', '.join(unreachable)}:"
            " add one, or take them off the list with a reason, before deciding."
        )
    return recipients
