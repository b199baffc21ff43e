"""The benchmark's data loader (bench.load, `manage.py bench_load`): the rows it writes hold the
register's rules, the main pages answer on them, and the accounts it records can sign in."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from bench.load import counts
from dsr.models import AccessEvent, Person, Rating, User
from escalation.models import Escalation
from referrals.models import Referral
from reviews.models import Action
from tests.conftest import signed_in_client

PEOPLE = 300


@pytest.fixture
def bench_app(db, settings):
    """The loader's command exists only where the bench app is installed (bench.settings)."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]


@pytest.fixture
def loaded(bench_app, tmp_path):
    accounts_file = tmp_path / "accounts.json"
    out = io.StringIO()
    call_command("bench_load", people=PEOPLE, accounts_file=accounts_file, stdout=out)
    return {"accounts": json.loads(accounts_file.read_text()), "output": out.getvalue()}


def _one(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_rows_per_table_are_in_the_expected_ranges(loaded):
    n = counts()
    entries = n["dsr_registerentry"]
    assert n["dsr_person"] == PEOPLE
    assert n["dsr_localauthority"] == 12
    # About 40% on the register, 8% with a closed entry; 1 to 8 ratings an entry, 400 for the
    # person with a long history.
    assert 0.35 * PEOPLE <= entries <= 0.65 * PEOPLE
    assert 400 + entries <= n["dsr_rating"] <= 400 + 9 * entries
    assert entries <= n["dsr_consent"] <= 2 * entries
    # About two referrals a person (twelve for the long history), a transition row each at least.
    assert 1.5 * PEOPLE <= n["referrals_referral"] <= 2.6 * PEOPLE
    assert n["referrals_referraltransition"] >= n["referrals_referral"]
    live = Referral.objects.live().count()
    assert 0.03 * n["referrals_referral"] <= live <= 0.2 * n["referrals_referral"]
    # A weekly meeting per area for 109 weeks; the long history is on 100 or so agendas, with
    # three actions at each.
    assert n["reviews_meeting"] == 12 * 109
    assert n["reviews_agendaitem"] >= 100
    assert n["reviews_action"] >= 300
    assert n["reviews_panelmember"] == 3 * n["reviews_cetr"] > 0
    assert n["escalation_escalation"] >= 200
    assert n["escalation_escalationtransition"] >= n["escalation_escalation"]
    assert n["dsr_accessevent"] >= 3000
    assert n["dsr_notification"] > n["referrals_referral"] / 2
    assert n["dsr_reminder"] > 0
    assert "dsr_person" in loaded["output"]


def test_ratings_spread_and_the_register_rules_hold(loaded):
    shares = dict(
        _rows(
            "SELECT rating, count(*)::float / sum(count(*)) OVER () FROM dsr_registerentry"
            " WHERE status = 'open' GROUP BY rating"
        )
    )
    assert set(shares) == {"RED", "AMBER", "GREEN", "BLUE"}
    assert shares["GREEN"] > shares["AMBER"] > shares["RED"]
    # Blue exactly while in hospital (DOMAIN rule 5).
    assert (
        _one(
            "SELECT count(*) FROM dsr_registerentry e LEFT JOIN dsr_admission a"
            " ON a.person_id = e.person_id AND a.discharged_on IS NULL WHERE e.status = 'open'"
            " AND (e.rating = 'BLUE') <> (a.id IS NOT NULL)"
        )
        == 0
    )
    # The entry's rating is its latest Rating row's, reviewed that day, due by the cadence.
    assert (
        _one(
            "SELECT count(*) FROM dsr_registerentry e CROSS JOIN LATERAL (SELECT rating,"
            " effective_from FROM dsr_rating r WHERE r.entry_id = e.id"
            " ORDER BY effective_from DESC, set_at DESC, id DESC LIMIT 1) l"
            " WHERE l.rating <> e.rating OR l.effective_from <> e.rating_reviewed_on"
            " OR e.rating_review_due IS DISTINCT FROM e.rating_reviewed_on"
            " + CASE e.rating WHEN 'RED' THEN 7 WHEN 'AMBER' THEN 14 WHEN 'GREEN' THEN 91 END"
        )
        == 0
    )
    # Each rating row names the one before it.
    assert (
        _one(
            "SELECT count(*) FROM (SELECT previous_rating, coalesce(lag(rating) OVER (PARTITION BY"
            " entry_id ORDER BY effective_from, set_at, id), '') AS before FROM dsr_rating) x"
            " WHERE previous_rating <> before"
        )
        == 0
    )
    assert _one("SELECT count(*) FROM dsr_rating WHERE previous_rating <> ''") > 0
    # Consent by age: parental responsibility ends at 18, Gillick is for under-16s.
    assert (
        _one(
            "SELECT count(*) FROM dsr_consent c JOIN dsr_person p ON p.id = c.person_id WHERE"
            " (c.basis = 'parental_responsibility'"
            " AND age(c.given_on, p.date_of_birth) >= '18 years')"
            " OR (c.basis = 'gillick' AND age(c.given_on, p.date_of_birth) >= '16 years')"
        )
        == 0
    )
    ages = _rows("SELECT min(age(date_of_birth)), max(age(date_of_birth)) FROM dsr_person")[0]
    assert ages[0].days < 366 * 12 and ages[1].days < 366 * 71


def test_workflows_have_their_transition_rows(loaded):
    # Every referral was received, and its last move is its status; the four-week date.
    assert (
        _one(
            "SELECT count(*) FROM referrals_referral f WHERE NOT EXISTS (SELECT 1 FROM"
            " referrals_referraltransition t WHERE t.referral_id = f.id AND t.from_status = ''"
            " AND t.to_status = 'received')"
        )
        == 0
    )
    assert (
        _one(
            "SELECT count(*) FROM referrals_referral f CROSS JOIN LATERAL (SELECT to_status FROM"
            " referrals_referraltransition t WHERE t.referral_id = f.id ORDER BY at DESC, id DESC"
            " LIMIT 1) l WHERE l.to_status <> f.status"
        )
        == 0
    )
    assert (
        _one(
            "SELECT count(*) FROM referrals_referral"
            " WHERE decision_due <> (received_at AT TIME ZONE 'Europe/London')::date + 28"
        )
        == 0
    )
    # Every escalation has its one "raised" row; all three states and several levels occur.
    assert (
        _one(
            "SELECT count(*) FROM escalation_escalation e WHERE (SELECT count(*) FROM"
            " escalation_escalationtransition t WHERE t.escalation_id = e.id"
            " AND t.from_status = '') <> 1"
        )
        == 0
    )
    states = {row[0] for row in _rows("SELECT DISTINCT status FROM escalation_escalation")}
    levels = {row[0] for row in _rows("SELECT DISTINCT level FROM escalation_escalation")}
    assert states == {"open", "acknowledged", "resolved"}
    assert {1, 2} <= levels
    assert (
        _one("SELECT count(*) FROM reviews_action WHERE status = 'open' AND due_on < current_date")
        > 0
    )


def test_the_long_history_person_has_hundreds_of_rows(loaded):
    person = loaded["accounts"]["long_history_person"]
    assert Rating.objects.filter(entry__person_id=person).count() == 400
    assert Action.objects.filter(person_id=person).count() >= 300
    assert Escalation.objects.filter(person_id=person).count() >= 100
    assert AccessEvent.objects.filter(person_id=person).count() >= 3000


def test_main_pages_answer_for_register_staff(loaded):
    accounts = loaded["accounts"]
    staff = User.objects.get(email=accounts["accounts"]["register_staff"]["email"])
    client = signed_in_client(staff)
    person = accounts["long_history_person"]
    for url in [
        reverse("dsr:register-list"),
        reverse("dsr:register-list") + "?rating=RED",
        reverse("dsr:person-detail", kwargs={"pk": person}),
        reverse("escalation:queue"),
        reverse("referrals:queue"),
        reverse("dsr:register-dashboard"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("dsr:person-detail", kwargs={"pk": person}))
    assert Person.objects.get(pk=person).full_name in page.content.decode()


def test_the_recorded_accounts_sign_in_through_the_real_pages(loaded):
    accounts = loaded["accounts"]
    assert set(accounts["accounts"]) >= {
        "register_staff",
        "dsr_lead",
        "senior_manager_health",
        "senior_manager_la",
        "executive_lead",
        "panel_member",
        "professional_referrer",
        "planning_commissioner",
        "administrator",
    }
    client = Client()
    answer = client.post(
        reverse("accounts:sign-in"),
        {
            "username": accounts["accounts"]["senior_manager_health"]["email"],
            "password": accounts["password"],
        },
    )
    assert answer.status_code == 302
    code = f"{totp(bytes.fromhex(accounts['totp_key'])):06d}"
    done = client.post(answer["Location"], {"token": code})
    assert done.status_code == 302
    assert client.get(reverse("escalation:queue")).status_code == 200


def test_the_working_day_has_its_accounts_each_signing_in_with_its_own_code(loaded):
    """bench/day.py signs in 40 register staff, 5 senior managers and 2 commissioners at once; a
    code works once per account, so each needs an account of its own with an authenticator."""
    everyone = loaded["accounts"]["all_accounts"]
    assert len(everyone["register_staff"]) == 40
    managers = everyone["senior_manager_health"] + everyone["senior_manager_la"]
    assert len(managers) >= 5
    assert len(everyone["planning_commissioner"]) == 2
    code = f"{totp(bytes.fromhex(loaded['accounts']['totp_key'])):06d}"
    for email, page in [
        (everyone["register_staff"][-1], reverse("dsr:register-list")),
        (everyone["planning_commissioner"][-1], reverse("reports:snapshot")),
    ]:
        client = Client()
        answer = client.post(
            reverse("accounts:sign-in"),
            {"username": email, "password": loaded["accounts"]["password"]},
        )
        # The same code as every other account's in this step: each device keeps its own.
        assert client.post(answer["Location"], {"token": code}).status_code == 302
        assert client.get(page).status_code == 200


def test_the_seeded_work_is_spread_over_the_first_ten_staff_only(loaded):
    """The extra staff accounts are for the working day; the data and the page table stay as
    they were with 10 accounts."""
    staff = loaded["accounts"]["all_accounts"]["register_staff"]
    caseload = set(User.objects.filter(email__in=staff[:10]).values_list("pk", flat=True))
    assigned = set(Referral.objects.exclude(assigned_to=None).values_list("assigned_to", flat=True))
    assert assigned and assigned <= caseload


def test_a_register_with_people_is_refused_and_kept(loaded, tmp_path):
    before = counts()
    with pytest.raises(CommandError, match="already holds"):
        call_command("bench_load", people=10, accounts_file=tmp_path / "again.json")
    assert counts() == before
    assert not (tmp_path / "again.json").exists()


def test_force_empties_the_register_and_loads_afresh(loaded, tmp_path):
    old_staff = User.objects.get(email=loaded["accounts"]["accounts"]["register_staff"]["email"])
    call_command(
        "bench_load", people=50, force=True, accounts_file=tmp_path / "b.json", stdout=io.StringIO()
    )
    assert Person.objects.count() == 50
    assert not User.objects.filter(pk=old_staff.pk).exists()
    assert User.objects.filter(email=old_staff.email).count() == 1
    assert json.loads((tmp_path / "b.json").read_text())["counts"]["dsr_person"] == 50


def test_referrals_only_adds_live_referrals_with_their_received_rows(loaded):
    before = Referral.objects.count()
    call_command("bench_load", referrals_only=500, stdout=io.StringIO())
    added = Referral.objects.order_by("-id")[:500]
    assert Referral.objects.count() == before + 500
    assert {r.status for r in added} <= set(Referral.LIVE)
    assert (
        _one(
            "SELECT count(*) FROM referrals_referral f WHERE NOT EXISTS (SELECT 1 FROM"
            " referrals_referraltransition t WHERE t.referral_id = f.id"
            " AND t.to_status = 'received')"
        )
        == 0
    )
    due_soon = Referral.objects.live().filter(
        pk__in=[r.pk for r in added], decision_due__lte=_one("SELECT current_date + 14")
    )
    assert 150 <= due_soon.count() <= 350


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
