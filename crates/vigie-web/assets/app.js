// Vigie progressive enhancement: local times, live query checking and previews.
// Every page works without this file.
(function () {
  "use strict";
  var body = document.body;
  var lang = body.dataset.lang || "en";
  var tz = body.dataset.tz || "UTC";
  var csrf = body.dataset.csrf || "";

  // Times in the user's time zone.
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(lang, { timeZone: tz, dateStyle: "medium", timeStyle: "short" });
  } catch (e) {
    fmt = new Intl.DateTimeFormat(lang, { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" });
  }
  window.vigieFormatTime = function (d) { return fmt.format(d); };
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = fmt.format(d); t.title = t.getAttribute("datetime"); }
    });
  }
  window.vigieLocalTimes = localTimes;
  localTimes(document);

  function postJson(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload)
    }).then(function (r) { return r.json(); });
  }

  // Query checking as you type, with the error position; preview of matches.
  document.querySelectorAll("[data-query-check]").forEach(function (input) {
    var status = document.getElementById(input.getAttribute("aria-describedby").split(" ").pop()) ||
      document.getElementById("q-status");
    var previewUrl = input.dataset.queryPreview;
    var timer = null;
    function run() {
      var q = input.value;
      if (!q.trim()) { status.textContent = ""; return; }
      postJson(input.dataset.queryCheck, { query: q }).then(function (res) {
        status.classList.remove("ok", "error");
        if (res.ok) {
          status.classList.add("ok");
          status.textContent = (status.dataset.ok || "OK") + ": " + res.normalized +
            (res.warnings && res.warnings.length ? " — " + res.warnings.join("; ") : "");
          input.setAttribute("aria-invalid", "false");
          if (previewUrl) { preview(q); }
        } else if (res.error) {
          status.classList.add("error");
          var pos = res.error.position;
          var chars = Array.from(q);
          status.textContent = "";
          status.append((status.dataset.error || "Error") + " (" + (pos + 1) + "): " + res.error.message +
            (res.error.hint ? " — " + res.error.hint : "") + " · ");
          var code = document.createElement("code");
          code.append(chars.slice(0, pos).join(""));
          var mark = document.createElement("mark");
          mark.className = "query-error";
          mark.textContent = chars.slice(pos, pos + 1).join("") || " ";
          code.append(mark, chars.slice(pos + 1).join(""));
          status.append(code);
          input.setAttribute("aria-invalid", "true");
        } else if (res.message) {
          status.textContent = res.message;
        }
      }).catch(function () {});
    }
    function preview(q) {
      var list = document.getElementById("preview");
      var count = document.getElementById("preview-count");
      postJson(previewUrl, { query: q, limit: 20 }).then(function (res) {
        if (!res.items) { return; }
        count.textContent = res.matched + " / " + res.scanned + " " + (count.dataset.label || "");
        list.textContent = "";
        res.items.forEach(function (m) {
          var li = document.createElement("li");
          var who = document.createElement("strong");
          who.textContent = "@" + m.author + " ";
          var when = document.createElement("time");
          when.setAttribute("datetime", m.published_at);
          when.textContent = fmt.format(new Date(m.published_at));
          var text = document.createElement("div");
          text.textContent = m.text;
          var why = document.createElement("div");
          why.className = "small muted";
          why.textContent = m.matched.join(", ");
          li.append(who, when, text, why);
          list.append(li);
        });
      }).catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
    if (input.value.trim()) { run(); }
  });
})();
