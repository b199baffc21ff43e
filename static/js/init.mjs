// Starts the NHS.UK components. A module script runs only in browsers nhsuk-frontend supports,
// which is the condition for the class that switches on their enhanced styles.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

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
