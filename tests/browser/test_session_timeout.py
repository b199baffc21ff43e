"""The idle-timeout warning in Chromium (WCAG 2.2.1 Timing Adjustable): with a short idle
timeout, the dialog opens before the end with focus on it, passes axe, and "Stay signed in"
restarts the server's idle clock and closes it."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from dsr.roles import Role
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_warning_opens_before_the_idle_timeout_and_staying_signed_in_extends_it(
    page, live_server, organisations, settings, screenshot
):
    # Warned 120 s before a 126 s idle timeout: the dialog opens 6 s after the page loads.
    settings.SESSION_COOKIE_AGE = 126
    user = UserFactory(organisation=organisations["icb"], roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=user)
    sign_in(page, live_server.url + reverse("dsr:home"), user, device)
    session = Session.objects.get()
    before = session.expire_date

    dialog = page.get_by_role("alertdialog", name="You are about to be signed out")
    dialog.wait_for(state="visible", timeout=15_000)

    assert page.evaluate("document.activeElement.id") == "session-timeout-title"
    assert "you will be signed out in" in dialog.inner_text()
    screenshot("session-timeout-warning")
    assert serious_violations(page) == []
    with page.expect_response(lambda r: r.url.endswith(reverse("accounts:session-extend"))) as done:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert done.value.status == 204
    dialog.wait_for(state="hidden")
    session.refresh_from_db()
    assert session.expire_date > before
    assert page.csp_violations == []
    assert page.broken == []
    record("WCAG 2.2.1 idle warning: opens before timeout / stay signed in extends", "yes / yes")
