"""The DSR lead's settings page (cadences, escalation rules, acknowledgement deadlines and the
levels' owners) and the DSR team's contact details, both dsr.manage_settings: the sweeps and
due dates, the public pages and the outcome messages read them from there."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dsr import queries, register_settings, services
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
        back_url=reverse("dsr:settings"),
        back_label="Back to settings",
        next_url=reverse("dsr:team-contact"),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE_SETTINGS)
def settings_page(request: HttpRequest) -> HttpResponse:
    """Every setting the DSR lead may change, on one page with one save; the team's contact
    details are linked from it. A wrong answer anywhere saves nothing."""
    form = register_settings.page_form_class()(
        request.POST or None, initial=register_settings.page_initial()
    )
    sections = [
        {
            "title": section.title,
            "fieldsets": [
                {"legend": legend, "hint": hint, "fields": [form[name] for name in names]}
                for legend, hint, names in section.fieldsets(form)
            ],
        }
        for section in register_settings.sections()
    ]
    return form_page(
        request,
        form=form,
        title="Settings",
        intro="The figures the register's due dates, reminders and escalations are worked out "
        "from. Each part says whether a change alters dates already worked out, or only new "
        "ones. Every change is kept, with who made it.",
        act=lambda data: services.register_settings_save(
            by=request.user, values=register_settings.page_values(data)
        ),
        done="Settings saved.",
        back_url=reverse("dsr:home"),
        back_label="Back to home",
        next_url=reverse("dsr:settings"),
        template="dsr/settings.html",
        extra={
            "sections": sections,
            "changes": queries.register_settings_changes(),
            "contact": queries.team_contact(),
        },
    )
