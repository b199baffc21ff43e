// The idle-timeout warning (WCAG 2.2.1 Timing Adjustable). The server ends a session after a
// period with no request; this opens a dialog that long before the end, counts down, and lets the
// user stay signed in (a POST that restarts the server's idle clock) or sign out. At the end it
// reloads the page, which the server then answers with the sign-in page.

const dialog = document.getElementById("session-timeout");

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function spoken(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes && rest) return `${plural(minutes, "minute")} ${plural(rest, "second")}`;
  return minutes ? plural(minutes, "minute") : plural(rest, "second");
}

function start(dialog) {
  const idle = Number(dialog.dataset.idleSeconds);
  const warning = Number(dialog.dataset.warningSeconds);
  const form = dialog.querySelector("[data-extend-form]");
  const countdown = dialog.querySelector("[data-countdown]");
  const announce = dialog.querySelector("[data-announce]");
  const heading = dialog.querySelector("h2");
  let warnTimer;
  let tickTimer;
  let endsAt;
  let returnFocus = null;

  function close() {
    clearInterval(tickTimer);
    if (dialog.open) dialog.close();
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  }

  function tick() {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    countdown.textContent = spoken(left);
    // Screen readers hear the time left when the dialog opens and every 30 seconds, not
    // every second.
    if (left % 30 === 0 || left === warning) {
      announce.textContent = `You will be signed out in ${spoken(left)}.`;
    }
    if (left === 0) {
      clearInterval(tickTimer);
      window.location.assign(window.location.pathname + window.location.search);
    }
  }

  function open() {
    returnFocus = document.activeElement;
    endsAt = Date.now() + Math.min(warning, idle) * 1000;
    dialog.showModal();
    heading.focus();
    tick();
    tickTimer = setInterval(tick, 1000);
  }

  function schedule() {
    clearTimeout(warnTimer);
    warnTimer = setTimeout(open, Math.max(0, idle - warning) * 1000);
  }

  async function stay() {
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
        redirect: "manual",
      });
    } catch {
      response = null;
    }
    if (response && response.status === 204) {
      close();
      announce.textContent = "";
      schedule();
    } else {
      // The session has already ended (or the server cannot be reached): show the sign-in page.
      window.location.assign(window.location.pathname + window.location.search);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    stay();
  });
  // Escape means the user is here: keep them signed in rather than leave the clock running.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    stay();
  });
  schedule();
}

if (dialog && typeof dialog.showModal === "function") {
  start(dialog);
}
