"""What the browser tests share: the axe check and signing in through the real pages."""

from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp

from tests.conftest import PASSWORD

SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    """The page's serious or critical WCAG violations, as axe reports them."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def sign_in(page, url: str, user, device) -> None:
    """Open `url`, sign in on the pages it sends the browser to (password, then the current
    code of the user's authenticator) and wait for the page to load."""
    page.goto(url)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
