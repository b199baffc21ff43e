// Starts the NHS.UK components. A module script runs only in browsers nhsuk-frontend supports,
// which is the condition for the class that switches on their enhanced styles.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// nhsuk-frontend marks a radio that reveals questions (conditional radios) aria-expanded, which
// the radio role does not support (axe: aria-allowed-attr; GOV.UK Frontend dropped it for that
// reason). The revealed questions follow the radio in reading order, so the mark is taken off
// each time nhsuk-frontend sets it: at start, when the page is shown (also from the back/forward
// cache) and after each change (a click, or the arrow keys, which click the radio).
function radiosWithoutExpanded() {
  for (const radio of document.querySelectorAll('input[type="radio"][aria-expanded]')) {
    radio.removeAttribute("aria-expanded");
  }
}

radiosWithoutExpanded();
window.addEventListener("pageshow", radiosWithoutExpanded);
document.addEventListener("click", radiosWithoutExpanded);

// A table wider than the screen scrolls sideways inside its container. Such a container is made
// a named stop in the tab order, so that people who use a keyboard can scroll it with the arrow
// keys (WCAG 2.1.1); a table that fits is left out of the tab order.
function scrollableTables() {
  for (const container of document.querySelectorAll(".nhsuk-table-container")) {
    if (container.dataset.scrollNamed === undefined && container.hasAttribute("tabindex")) {
      continue; // the page made it a region itself
    }
    // (A couple of pixels of border past the edge is not a table to scroll.)
    const scrolls = container.scrollWidth - container.clientWidth > 8;
    if (scrolls) {
      const caption = container.querySelector("caption");
      container.tabIndex = 0;
      container.setAttribute("role", "region");
      container.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
      container.dataset.scrollNamed = "";
    } else if (container.dataset.scrollNamed !== undefined) {
      container.removeAttribute("tabindex");
      container.removeAttribute("role");
      container.removeAttribute("aria-label");
      delete container.dataset.scrollNamed;
    }
  }
}

scrollableTables();
window.addEventListener("resize", scrollableTables);
