"""The access review: every active account with its organisation, roles, last sign-in, second
factor and invitation, for administrators only, filterable, as a page and as a CSV."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.accounts import invitation_accept, invitation_create
from dsr.roles import Role
from tests.conftest import account, signed_in_client
from tests.dsr.factories import UserFactory
from tests.figures import record

REVIEW = reverse("dsr:account-review")
CSV = reverse("dsr:account-review-csv")


@pytest.fixture
def admin(organisations):
    return account(organisations["icb"], Role.ADMINISTRATOR, full_name="Ada Admin")


@pytest.fixture
def admin_client(admin):
    return signed_in_client(admin)


@pytest.fixture
def accounts(admin, organisations):
    """A referrer invited and never signed in, without an authenticator app; a DSR lead who
    signed in; and an account switched off."""
    invitation = invitation_create(
        email="rita@trust.example",
        full_name="Rita Referrer",
        organisation=organisations["trust"],
        roles=["professional_referrer"],
        by=admin,
    )
    referrer = invitation_accept(invitation=invitation, password="a-long-enough-password")
    lead = account(organisations["icb"], Role.DSR_LEAD, full_name="Lee Lead")
    lead.last_login = datetime.datetime(2026, 3, 9, 14, 5, tzinfo=datetime.UTC)
    lead.save()
    gone = UserFactory(full_name="Gone Person", organisation=organisations["icb"], is_active=False)
    return {"referrer": referrer, "lead": lead, "gone": gone}


def _rows(text: str) -> list[str]:
    body = text.split('<tbody class="nhsuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [" ".join(row.split()) for row in body.split("</tr>")[:-1]]


def test_only_administrators_may_see_the_review(organisations, admin_client):
    lead = signed_in_client(account(organisations["icb"], Role.DSR_LEAD))
    staff = signed_in_client(account(organisations["icb"], Role.REGISTER_STAFF))

    answers = [c.get(REVIEW).status_code for c in (admin_client, lead, staff)]
    downloads = [c.get(CSV).status_code for c in (admin_client, lead, staff)]

    assert answers == [200, 403, 403]
    assert downloads == [200, 403, 403]
    record("access review: roles that may see it", "administrator only")


def test_the_review_lists_every_active_account_with_what_it_can_do(admin_client, accounts):
    rows = _rows(admin_client.get(REVIEW).text)

    assert len(rows) == 3  # Ada, Lee, Rita; not the account switched off
    ada, lee, rita = rows
    assert "Ada Admin" in ada and "Administrator" in ada and "Not invited" in ada
    assert "Lee Lead" in lee and "DSR lead" in lee and "Test ICB" in lee
    assert "9 Mar 2026 14:05" in lee and "Set up" in lee and "Not set up" not in lee
    when = timezone.localtime(accounts["referrer"].invitation.accepted_at)
    assert "Rita Referrer" in rita and "Test NHS Trust" in rita and "Professional referrer" in rita
    assert "Never" in rita and "Not set up" in rita
    assert f"Invitation accepted {when:%-d %B %Y}" in rita


def test_the_review_filters_by_role_and_organisation(admin_client, accounts, organisations):
    by_role = _rows(admin_client.get(REVIEW, {"role": "dsr_lead"}).text)
    by_organisation = _rows(
        admin_client.get(REVIEW, {"organisation": organisations["trust"].pk}).text
    )
    neither = admin_client.get(
        REVIEW, {"role": "dsr_lead", "organisation": organisations["trust"].pk}
    ).text

    assert [("Lee Lead" in row) for row in by_role] == [True]
    assert [("Rita Referrer" in row) for row in by_organisation] == [True]
    assert "No active account matches these filters." in neither


def test_invalid_filters_show_an_error_summary_and_no_rows(admin_client, accounts):
    page = admin_client.get(REVIEW, {"role": "superuser", "organisation": "x"})
    download = admin_client.get(CSV, {"role": "superuser"})

    assert "There is a problem" in page.text
    assert "Select a role from the list." in page.text
    assert "Select an organisation from the list." in page.text
    assert "Rita Referrer" not in page.text
    assert download.status_code == 400


def test_the_csv_holds_the_same_rows_and_never_a_formula(admin_client, accounts, organisations):
    accounts["lead"].full_name = "=HYPERLINK(1)"
    accounts["lead"].save()

    response = admin_client.get(CSV, {"organisation": organisations["icb"].pk})

    assert response["Content-Disposition"].startswith('attachment; filename="dsr-accounts-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Name", "Email address", "Organisation", "Roles"]
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(1)", "Ada Admin"]
    assert rows[2][3] == "Administrator"
    assert rows[2][4].startswith(f"{timezone.localdate():%Y-%m-%d}T")  # signed in just now
    assert rows[2][5:] == ["Yes", "Not invited"]


@pytest.mark.parametrize("extra", [5, 50])
def test_the_review_runs_a_fixed_number_of_queries_whatever_the_number_of_accounts(
    admin, admin_client, organisations, django_assert_max_num_queries, extra
):
    for number in range(extra):
        account(organisations["trust"], Role.PROFESSIONAL_REFERRER, full_name=f"Ref {number}")
    admin_client.get(REVIEW)  # the session's first read

    with django_assert_max_num_queries(12) as page:
        rows = _rows(admin_client.get(REVIEW).text)
    with django_assert_max_num_queries(10) as download:
        admin_client.get(CSV)

    assert len(rows) == extra + 1
    record(
        f"access review queries for {extra + 1} accounts (page / CSV)",
        f"{len(page)} / {len(download)}",
    )
