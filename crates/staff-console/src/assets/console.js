// The console's only script: local times, live refresh of [data-live] parts over
// server-sent events, one submit per reply form, and the browser's time zone for snoozes.
"use strict";

(function () {
  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      const at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) {
        el.title = el.textContent;
        el.textContent = timeFormat.format(at);
      }
    });
  }

  function scrollToEnd(el) {
    if (el.dataset.scroll === "end") {
      el.scrollTop = el.scrollHeight;
    }
  }

  function refresh(el) {
    if (el.dataset.loading) {
      el.dataset.again = "1";
      return;
    }
    el.dataset.loading = "1";
    const nearEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    fetch(el.dataset.live, { credentials: "same-origin", headers: { "x-requested-with": "live" } })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error("refresh failed: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        el.innerHTML = html;
        localTimes(el);
        if (nearEnd) {
          scrollToEnd(el);
        }
        el.dataset.refreshed = String(Number(el.dataset.refreshed || "0") + 1);
      })
      .catch(function () {})
      .finally(function () {
        delete el.dataset.loading;
        if (el.dataset.again) {
          delete el.dataset.again;
          refresh(el);
        }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("[data-tz-offset]").forEach(function (input) {
      input.value = String(-new Date().getTimezoneOffset());
    });
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        window.setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
    const live = document.querySelectorAll("[data-live]");
    live.forEach(scrollToEnd);
    if (live.length > 0 && "EventSource" in window) {
      const events = new EventSource("/events");
      events.addEventListener("open", function () { document.body.dataset.live = "connected"; });
      events.addEventListener("activity", function () { live.forEach(refresh); });
      events.addEventListener("error", function () { document.body.dataset.live = "reconnecting"; });
    }
  });
})();
