"""What the browser tests share: the axe check and signing in through the real pages."""

from collections.abc import Callable

from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp

from tests.conftest import PASSWORD
from tests.figures import record

SERIOUS = {"serious", "critical"}


AXE_RUNS = {"pages": 0, "serious": 0}


def serious_violations(page) -> list[str]:
    """The page's serious or critical WCAG violations, as axe reports them. Every check counts
    towards the run's total (printed with the figures)."""
    results = Axe().run(page)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    AXE_RUNS["pages"] += 1
    AXE_RUNS["serious"] += len(found)
    record(
        "axe: page checks in all browser tests (serious or critical violations)",
        f"{AXE_RUNS['pages']} ({AXE_RUNS['serious']})",
    )
    return found


def sign_in(page, url: str, user, device, audit: Callable[[], None] | None = None) -> None:
    """Open `url`, sign in on the pages it sends the browser to (password, then the current
    code of the user's authenticator) and wait for the page to load. `audit`, when given, is
    called on each sign-in page before it is filled in."""
    page.goto(url)
    if audit:
        audit()
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    if audit:
        audit()
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def fill_step(page, answers: dict) -> None:
    """Fill a step's fields from the answers a browser would post (mouse-free but not keyboard)."""
    for name, value in answers.items():
        controls = page.locator(f'[name="{name}"]')
        if not controls.count():
            continue
        kind = controls.first.get_attribute("type")
        if kind in ("radio", "checkbox") and isinstance(value, list):
            for item in value:
                page.check(f'input[name="{name}"][value="{item}"]')
        elif kind == "radio":
            page.check(f'input[name="{name}"][value="{value}"]')
        elif kind == "checkbox":
            if value:
                controls.first.check()
        else:
            controls.first.fill(value)


# --- The keyboard alone ------------------------------------------------------------------------

# Whether the focused element shows where focus is: an outline that is drawn (not none, not
# transparent, wider than 0), or the NHS.UK focus colour (#ffeb3b) in its outline, shadow or
# background, or on its label's box (radios and checkboxes draw their focus ring there).
# Answers null when focus is visible, or what is focused when it is not.
_FOCUS_PROBLEM = r"""() => {
    const element = document.activeElement;
    if (!element || element === document.body) return "nothing has focus";
    const yellow = "rgb(255, 235, 59)";
    const shows = (style) =>
        (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
            && !/rgba\(.*, 0\)$/.test(style.outlineColor) && style.outlineColor !== "transparent")
        || style.outlineColor === yellow
        || style.boxShadow.includes(yellow)
        || style.backgroundColor === yellow;
    if (shows(getComputedStyle(element))) return null;
    for (const label of element.labels || []) {
        if (shows(getComputedStyle(label, "::before")) || shows(getComputedStyle(label))) {
            return null;
        }
    }
    return element.outerHTML.slice(0, 160);
}"""


def focus_problem(page) -> str | None:
    """None when the focused element shows its focus; otherwise what is focused."""
    return page.evaluate(_FOCUS_PROBLEM)


def tab_to(page, selector: str, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`, as a keyboard
    user would; every element focused on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        problem = focus_problem(page)
        assert problem is None, f"focus not visible on {problem}"
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def type_into(page, name: str, text: str) -> None:
    tab_to(page, f'[name="{name}"]')
    page.keyboard.type(text)


def choose(page, name: str, value: str) -> None:
    """Tab into a radio group, then move with the arrow keys (or Space on the first) to `value`."""
    tab_to(page, f'input[type="radio"][name="{name}"]')
    for _ in range(30):
        if page.evaluate("(v) => document.activeElement.value === v", value):
            page.keyboard.press("Space")
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"No radio {name}={value}")


def tick(page, name: str, value: str) -> None:
    tab_to(page, f'input[type="checkbox"][name="{name}"][value="{value}"]')
    page.keyboard.press("Space")


def press_continue(page, label: str = "Continue") -> None:
    tab_to(page, 'button[type="submit"]:not(.nhsuk-header__account-button)')
    assert page.evaluate("document.activeElement.innerText").strip() == label
    with page.expect_navigation():
        page.keyboard.press("Enter")
