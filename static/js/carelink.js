// CareLink: small behaviours that do not need a framework. No inline script
// anywhere (a Content-Security-Policy without 'unsafe-inline' is the rule):
// pages carry data attributes, this file reads them.
(function () {
  "use strict";

  var body = document.body;
  var account = body.dataset.account || "";

  // --- idle logoff, with a warning one minute before -------------------------------
  // The server ends the session at most N seconds after the last request (it moves
  // the end on about once a minute, and on every request this script makes: see
  // core.sessions); the page says how long its session has left. This makes the
  // screen follow, so record content does not stay on an unattended display, and
  // offers to stay signed in.
  var seconds = parseInt(body.dataset.idleLogoutSeconds || "", 10);
  var leftAtLoad = parseInt(body.dataset.idleLogoutLeft || "", 10);
  var warning = document.getElementById("session-warning");
  if (seconds > 0) {
    var lead = Math.min(60, Math.floor(seconds / 2));
    var warnTimer = null, logoutTimer = null, countdown = null;
    var hideWarning = function () {
      if (countdown) { window.clearInterval(countdown); countdown = null; }
      if (warning) { warning.hidden = true; }
    };
    var showWarning = function (left) {
      if (!warning) { return; }
      var counter = warning.querySelector("[data-countdown]");
      if (counter) { counter.textContent = String(left); }
      warning.hidden = false;
      var button = warning.querySelector("[data-stay-signed-in]");
      if (button) { button.focus(); }
      countdown = window.setInterval(function () {
        left = Math.max(0, left - 1);
        if (counter) { counter.textContent = String(left); }
      }, 1000);
    };
    var arm = function (until) {
      if (warnTimer) { window.clearTimeout(warnTimer); }
      if (logoutTimer) { window.clearTimeout(logoutTimer); }
      hideWarning();
      warnTimer = window.setTimeout(function () { showWarning(Math.min(lead, until)); },
                                    Math.max(0, until - lead) * 1000);
      // Reloading lands on the sign-in page (whatever was typed is kept, below).
      logoutTimer = window.setTimeout(function () { window.location.reload(); }, (until + 5) * 1000);
    };
    arm(leftAtLoad >= 0 ? Math.min(leftAtLoad, seconds) : seconds);
    // Every htmx request reaches the server and so extends the session.
    document.addEventListener("htmx:after:request", function () { arm(seconds); });
    if (warning) {
      warning.addEventListener("click", function (event) {
        if (!event.target.closest("[data-stay-signed-in]")) { return; }
        fetch(body.dataset.keepaliveUrl, {
          credentials: "same-origin",
          headers: { "Accept": "application/json" },
        }).then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
          if (response.ok && json && !response.redirected) { arm(seconds); } else { window.location.reload(); }
        }, function () { window.location.reload(); });
      });
    }
  }

  // --- what was typed survives an expired session -------------------------------------
  // A note or report typed when the session ran out is kept in this tab's
  // sessionStorage (gone when the tab closes: clinical text must not outlive it
  // on a shared computer), restored after signing in again, and cleared on a
  // successful submit and on sign-out. Only forms marked data-keep-draft.
  var PREFIX = "carelink-draft:";
  var store = null;
  try { store = window.sessionStorage; } catch (error) { store = null; }
  var draftKey = function (form) { return PREFIX + form.getAttribute("action"); };
  var fieldsOf = function (form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrfmiddlewaretoken" &&
        (field.tagName === "TEXTAREA" || field.tagName === "SELECT" ||
         (field.tagName === "INPUT" && /^(text|datetime-local|date|search)$/.test(field.type)));
    });
  };
  // The elements matching `selector` in `root`, `root` itself included (htmx
  // reports a swapped-in form as the root of what it processed).
  var within = function (root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) { found.unshift(root); }
    return found;
  };
  var read = function (key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (error) { return null; }
  };
  var eachDraftKey = function (callback) {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) { callback(key); }
    }
  };
  if (store) {
    if (account) {
      eachDraftKey(function (key) {
        var draft = read(key);
        // Another account's text is never shown; a submit that succeeded is done.
        if (!draft || draft.account !== account ||
            (draft.submitted && document.querySelector(".message-success"))) {
          store.removeItem(key);
        }
      });
    }
    var keepDrafts = function (root) {
      within(root, "form[data-keep-draft]").forEach(function (form) {
        if (form.dataset.draftKept) { return; }
        form.dataset.draftKept = "1";
        var key = draftKey(form);
        var save = function (submitted) {
          var values = {};
          fieldsOf(form).forEach(function (field) { values[field.name] = field.value; });
          store.setItem(key, JSON.stringify({ account: account, submitted: submitted, values: values }));
        };
        form.addEventListener("input", function () { save(false); });
        form.addEventListener("change", function () { save(false); });
        form.addEventListener("submit", function () { save(true); });
        var draft = read(key);
        if (!draft || draft.account !== account) { return; }
        var restored = false;
        fieldsOf(form).forEach(function (field) {
          var value = draft.values[field.name];
          if (typeof value === "string" && value !== "" && value !== field.value) {
            field.value = value;
            restored = true;
          }
        });
        if (!restored) { return; }
        var details = form.closest("details");
        if (details) { details.open = true; }
        var notice = document.createElement("p");
        notice.className = "notice draft-restored";
        notice.setAttribute("role", "status");
        notice.textContent = "Restored what you typed before you were signed out. Check it, then send it again.";
        form.insertBefore(notice, form.firstChild);
      });
    };
    keepDrafts(document);
    // A form brought in when its panel opens (an entry's amend and retract forms)
    // keeps its draft too; a panel whose form has a draft opens itself, so the
    // draft comes back as the page loads, as it does for the forms already there.
    // Opened once htmx has processed the panel, or its toggle would go unheard.
    var openDrafted = function (root) {
      within(root, "details[data-draft-for]").forEach(function (details) {
        var draft = read(PREFIX + details.dataset.draftFor);
        if (draft && draft.account === account) { details.open = true; }
      });
    };
    if (window.htmx) {
      window.htmx.onLoad(function (root) { keepDrafts(root); openDrafted(root); });
    }
    // Signing out clears every draft of this tab.
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sign-out]"), function (form) {
      form.addEventListener("submit", function () { eachDraftKey(function (key) { store.removeItem(key); }); });
    });
  }

  // --- print: folded text is printed whole ----------------------------------------------
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details.entry-fold"), function (details) {
      if (!details.open) { details.open = true; details.dataset.openedForPrint = "1"; }
    });
  });
  window.addEventListener("afterprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-opened-for-print]"), function (details) {
      details.open = false;
      delete details.dataset.openedForPrint;
    });
  });

  // Confirm destructive or exceptional actions (revoke consent, break the glass).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
})();
