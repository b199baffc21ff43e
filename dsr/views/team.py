"""The DSR team's contact details: the DSR lead keeps them in one place (dsr.manage_settings);
the public pages and the outcome messages read them from there."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dsr import queries, services
from dsr.forms import TeamContactForm
from dsr.models.team import YOUNG_PEOPLE_GUIDE_DEFAULT
from dsr.nhsuk.form_page import form_page
from dsr.security.access import role_required
from dsr.services.team import FIELDS

MANAGE_SETTINGS = "dsr.manage_settings"


@require_http_methods(["GET", "POST"])
@role_required(MANAGE_SETTINGS)
def team_contact(request: HttpRequest) -> HttpResponse:
    """Change the phone, email, address, opening hours, how to complain and the link to NHS
    England's guides for young people."""
    current = queries.team_contact()
    if current:
        initial = {name: getattr(current, name) for name in FIELDS}
    else:
        initial = {"young_people_guide_url": YOUNG_PEOPLE_GUIDE_DEFAULT}
    form = TeamContactForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form=form,
        title="Team contact details",
        intro="People are given these details on the public pages, and in the letters and "
        "emails that tell them a referral's outcome.",
        act=lambda data: services.team_contact_save(by=request.user, **data),
        done="Team contact details saved.",
        back_url=reverse("dsr:home"),
        back_label="Back to home",
        next_url=reverse("dsr:team-contact"),
    )
