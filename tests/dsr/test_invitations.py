"""Invitations: an administrator invites, the invitee sets a password through a single-use,
expiring link (only its hash stored), then sets up their authenticator app."""

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from dsr.accounts import InvitationError, invitation_accept, invitation_create, invitation_revoke
from dsr.accounts.invitations import invitation_token
from dsr.models import Invitation, Notification, User
from dsr.outbox.delivery import deliver_due, render
from dsr.roles import Role
from tests.conftest import account, signed_in_client
from tests.figures import record

NEW = reverse("dsr:invitation-create")
LIST = reverse("dsr:invitation-list")
LINK = re.compile(r"https://dsr\.test(/accounts/invitation/([0-9a-f]{64})/)")
GOOD_PASSWORD = "plum-orbit-lantern-41"


@pytest.fixture
def admin(organisations):
    return account(organisations["icb"], Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def admin_client(admin):
    return signed_in_client(admin)


def _invite(admin_client, organisations, **changes):
    data = {
        "full_name": "Pat Panel",
        "email": "Pat.Panel@Example.org",
        "job_title": "Expert by experience",
        "organisation": organisations["icb"].pk,
        "roles": ["panel_member"],
        **changes,
    }
    return admin_client.post(NEW, data)


def _latest_link() -> tuple[str, str]:
    """(path, token) of the link in the newest email sent."""
    found = LINK.search(mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(1), found.group(2)


def _send_and_read_link() -> tuple[str, str]:
    deliver_due()
    return _latest_link()


def _accept(client, path, password=GOOD_PASSWORD):
    return client.post(path, {"new_password1": password, "new_password2": password})


def test_the_email_carries_a_link_whose_token_is_stored_only_as_its_hash(
    admin_client, organisations, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _invite(admin_client, organisations)
    assert response["Location"] == LIST
    assert len(callbacks) == 1  # one delivery task queued after commit

    invitation = Invitation.objects.get()
    assert invitation.email == "pat.panel@example.org"
    assert invitation.roles == ["panel_member"]
    path, token = _send_and_read_link()
    message = mail.outbox[-1]
    assert message.to == ["pat.panel@example.org"]
    assert "Panel member at Test ICB" in message.body
    assert hashlib.sha256(token.encode()).hexdigest() == invitation.token_hash
    # The token itself is in no column of the invitation, its history or the outbox row.
    stored = [
        *Invitation.objects.values_list(),
        *Invitation.history.values_list(),
        *Notification.objects.values_list(),
    ]
    assert token not in repr(stored)
    assert [h.history_change_reason for h in invitation.history.all()] == ["Invitation sent"]
    record("A-5 invitation token: hex characters / stored in clear", f"{len(token)} / 0")


def test_an_invitation_sent_before_the_secret_key_changed_still_opens_and_is_emailed(
    admin_client, organisations, client, settings
):
    """The key that made the token is kept among SECRET_KEY_FALLBACKS: its email, sent after
    the change, carries the same link, and the link opens the invitation; once that key is
    dropped, the link can no longer be made again."""
    _invite(admin_client, organisations)
    invitation = Invitation.objects.get()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-newer-secret-key-" + "k" * 40

    path, token = _send_and_read_link()

    assert hashlib.sha256(token.encode()).hexdigest() == invitation.token_hash
    assert client.get(path).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvitationError):
        invitation_token(invitation)


def test_accepting_makes_the_account_then_sends_the_invitee_to_set_up_their_authenticator(
    admin_client, organisations, client
):
    _invite(admin_client, organisations)
    path, _ = _send_and_read_link()

    page = client.get(path)
    assert page.status_code == 200
    assert "Create your account" in page.text
    assert "as Panel member at Test ICB" in page.text

    response = _accept(client, path)
    setup = reverse("accounts:setup")
    assert response["Location"] == f"{setup}?next={reverse('dsr:home')}"
    user = User.objects.get(email="pat.panel@example.org")
    assert user.check_password(GOOD_PASSWORD)
    assert user.roles == [Role.PANEL_MEMBER]
    assert user.organisation == organisations["icb"]
    assert user.job_title == "Expert by experience"
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.user) == (Invitation.Status.ACCEPTED, user)
    # Signed in with the password only: the set-up page opens, nothing else does yet.
    assert client.get(setup).status_code == 200
    assert client.get(reverse("dsr:home"))["Location"].startswith(reverse("accounts:verify"))


def test_a_link_works_once(admin_client, organisations, client):
    _invite(admin_client, organisations)
    path, _ = _send_and_read_link()
    _accept(client, path)

    again = _accept(type(client)(), path, password="another-fine-password-9")

    assert again.status_code == 410
    assert "This invitation has already been used" in again.text
    assert User.objects.filter(email="pat.panel@example.org").count() == 1
    assert User.objects.get(email="pat.panel@example.org").check_password(GOOD_PASSWORD)


def test_accepting_twice_through_the_service_is_refused(admin, organisations):
    invitation = invitation_create(
        email="x@example.org",
        full_name="X",
        organisation=organisations["icb"],
        roles=["professional_referrer"],
        by=admin,
    )
    invitation_accept(invitation=invitation, password=GOOD_PASSWORD)

    with pytest.raises(InvitationError, match="This invitation can no longer be used."):
        invitation_accept(invitation=invitation, password=GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (datetime.timedelta(days=7) - datetime.timedelta(seconds=1), 200),
        (datetime.timedelta(days=7), 410),
    ],
)
def test_a_link_expires_after_the_invitation_days(
    admin_client, organisations, client, frozen_now, age, status
):
    _invite(admin_client, organisations)
    path, _ = _send_and_read_link()

    frozen_now.shift(age)
    page = client.get(path)
    posted = _accept(client, path)

    assert page.status_code == status
    if status == 410:
        assert "This invitation has expired" in page.text
        assert "send the invitation again" in page.text
        assert posted.status_code == 410
        assert not User.objects.filter(email="pat.panel@example.org").exists()
    else:
        assert posted.status_code == 302
    record("invitation link life at the default setting (days)", 7)


def test_sending_again_kills_the_old_link_and_gives_a_new_one(
    admin, admin_client, organisations, client, frozen_now
):
    _invite(admin_client, organisations)
    old_path, _ = _send_and_read_link()
    invitation = Invitation.objects.get()
    frozen_now.shift(datetime.timedelta(days=8))  # expired: sending again revives it

    response = signed_in_client(admin).post(reverse("dsr:invitation-resend", args=[invitation.pk]))
    new_path, _ = _send_and_read_link()

    assert response["Location"] == LIST
    assert new_path != old_path
    old = client.get(old_path)
    assert old.status_code == 404
    assert "This link is not valid" in old.text
    assert client.get(new_path).status_code == 200
    invitation.refresh_from_db()
    assert invitation.sends == 2
    assert invitation.expires_at == timezone.now() + datetime.timedelta(days=7)
    assert _accept(client, new_path).status_code == 302


def test_an_older_email_still_waiting_is_cancelled_when_sent_again(admin_client, organisations):
    _invite(admin_client, organisations)
    invitation = Invitation.objects.get()

    admin_client.post(reverse("dsr:invitation-resend", args=[invitation.pk]))
    deliver_due()

    assert len(mail.outbox) == 1
    first, second = Notification.objects.order_by("recipient_key")
    assert first.status == Notification.Status.CANCELLED
    assert second.status == Notification.Status.SENT


def test_a_withdrawn_invitation_is_never_emailed_and_its_link_says_so(
    admin, admin_client, organisations, client
):
    _invite(admin_client, organisations)
    path, _ = _send_and_read_link()
    invitation = Invitation.objects.get()

    confirm = admin_client.get(reverse("dsr:invitation-revoke", args=[invitation.pk]))
    response = admin_client.post(reverse("dsr:invitation-revoke", args=[invitation.pk]))

    assert "Withdraw the invitation to Pat Panel" in confirm.text
    assert response["Location"] == LIST
    page = client.get(path)
    assert page.status_code == 410
    assert "This invitation has been withdrawn" in page.text
    invitation.refresh_from_db()
    assert (invitation.status, invitation.revoked_by) == (Invitation.Status.REVOKED, admin)
    # Its email can no longer be made (a failed one sent again by staff fails again) ...
    with pytest.raises(InvitationError, match="no longer waiting"):
        render(Notification.objects.get(subject_id=invitation.pk))
    # ... and one still waiting is cancelled, never sent.
    second = invitation_create(
        email="late@example.org",
        full_name="Late",
        organisation=organisations["icb"],
        roles=["panel_member"],
        by=admin,
    )
    invitation_revoke(invitation=second, by=admin)
    sent_before = len(mail.outbox)
    deliver_due()
    assert len(mail.outbox) == sent_before
    assert Notification.objects.get(subject_id=second.pk).status == Notification.Status.CANCELLED
    reasons = [h.history_change_reason for h in invitation.history.order_by("history_id")]
    assert reasons == ["Invitation sent", "Invitation withdrawn"]


def test_an_unknown_link_answers_404_with_a_clear_page(db, client):
    for token in ["0" * 64, "not-a-token"]:
        response = client.get(reverse("accounts:invitation-accept", args=[token]))
        assert response.status_code == 404
        assert "This link is not valid" in response.text


def test_a_weak_password_is_refused_with_an_error_summary_and_nothing_made(
    admin_client, organisations, client
):
    _invite(admin_client, organisations)
    path, _ = _send_and_read_link()

    response = _accept(client, path, password="password")
    mismatch = client.post(
        path, {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD + "x"}
    )

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "This password is too short" in response.text
    assert "This password is too common" in response.text
    assert "Enter the same password in both boxes." in mismatch.text
    assert not User.objects.filter(email="pat.panel@example.org").exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_the_invite_form_shows_nhsuk_errors_and_writes_nothing(admin, admin_client, organisations):
    empty = admin_client.post(NEW, {})
    taken = _invite(admin_client, organisations, email=admin.email.upper())
    administrator = _invite(admin_client, organisations, roles=["administrator"])

    assert "There is a problem" in empty.text
    for message in [
        "Enter the person&#x27;s full name.",
        "Enter the person&#x27;s email address.",
        "Select the organisation the person works for.",
        "Select at least one role.",
    ]:
        assert message in empty.text
    assert "An account with this email address already exists." in taken.text
    assert "Select roles from the list." in administrator.text
    assert not Invitation.objects.exists()
    assert not Notification.objects.exists()


def test_a_second_invitation_to_a_waiting_address_is_refused(admin_client, organisations):
    _invite(admin_client, organisations)

    again = _invite(admin_client, organisations, email="PAT.panel@example.org")

    assert "already has an invitation waiting" in again.text
    assert Invitation.objects.count() == 1


def test_the_database_allows_one_waiting_invitation_per_address(admin, organisations):
    invitation_create(
        email="one@example.org",
        full_name="One",
        organisation=organisations["icb"],
        roles=["panel_member"],
        by=admin,
    )
    now = timezone.now()
    with pytest.raises(IntegrityError):
        Invitation.objects.create(
            email="ONE@example.org",
            full_name="Two",
            organisation=organisations["icb"],
            roles=["panel_member"],
            token_hash="f" * 64,
            sent_at=now,
            expires_at=now + datetime.timedelta(days=1),
            invited_by=admin,
        )


def test_the_list_shows_waiting_invitations_and_marks_the_expired(admin, organisations, frozen_now):
    invitation_create(
        email="old@example.org",
        full_name="Olive Old",
        organisation=organisations["trust"],
        roles=["professional_referrer"],
        by=admin,
    )
    frozen_now.shift(datetime.timedelta(days=8))
    admin_client = signed_in_client(admin)
    _invite(admin_client, organisations)
    accepted = invitation_create(
        email="done@example.org",
        full_name="Dana Done",
        organisation=organisations["icb"],
        roles=["panel_member"],
        by=admin,
    )
    invitation_accept(invitation=accepted, password=GOOD_PASSWORD)

    page = admin_client.get(LIST).text

    assert "Olive Old" in page
    assert "Pat Panel" in page
    assert "Dana Done" not in page
    assert page.count("Expired</strong>") == 1
    assert page.index("Olive Old") < page.index("Pat Panel")  # soonest to expire first
