// Starts the NHS.UK components. A module script runs only in browsers nhsuk-frontend supports,
// which is the condition for the class that switches on their enhanced styles.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
