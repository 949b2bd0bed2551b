// Progressive behaviour only: every page works without this file.
"use strict";

// A tbody with data-refresh="URL" data-every="MS" reloads its rows from URL every MS.
function refresh(target) {
  const every = Number(target.dataset.every || 2000);
  const tick = async () => {
    try {
      const answer = await fetch(target.dataset.refresh, {credentials: "same-origin"});
      if (answer.redirected || !answer.ok) {
        target.closest("table").insertAdjacentHTML("beforebegin",
          '<p class="problem" role="alert">Live updates stopped: reload the page.</p>');
        return;
      }
      target.innerHTML = await answer.text();
    } catch (error) {
      // the server may restart: try again on the next tick
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

document.querySelectorAll("[data-refresh]").forEach(refresh);

// A button with data-confirm asks before its form is sent.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
