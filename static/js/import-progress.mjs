// The progress bar of an import's background job (templates/dsr/imports/progress.html): while the
// check or the import runs, ask for its progress every two seconds and move the bar; reload the
// page once the job has finished, to show what it found or did. Without JavaScript the page shows
// the progress as it was when loaded.
const WORKING = ["checking", "queued", "running"];
const box = document.getElementById("import-progress");
const url = box && box.dataset.progressUrl;
if (url) {
  const bar = document.getElementById("import-progress-bar");
  const text = document.getElementById("import-progress-text");
  const tick = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const progress = await response.json();
        bar.max = Math.max(progress.total, 1);
        bar.value = progress.done;
        bar.textContent = `${progress.percent}%`;
        text.querySelector("[data-status]").textContent = progress.status_label;
        text.querySelector("[data-done]").textContent = progress.done;
        text.querySelector("[data-percent]").textContent = progress.percent;
        if (!WORKING.includes(progress.status)) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A dropped connection: try again at the next tick.
    }
    window.setTimeout(tick, 2000);
  };
  window.setTimeout(tick, 500);
}
