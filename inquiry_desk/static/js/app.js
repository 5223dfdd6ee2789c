// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // -- The error summary (QUALITY.md A2) -------------------------------------------------

  // A link of the summary moves the focus to its field and shows the field's label (and
  // its hint and error message) too, not just the box, scrolled to the top of the window.
  function focusField(event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!field || typeof field.focus !== "function") {
      return;
    }
    event.preventDefault();
    var label = field.labels && field.labels.length ? field.labels[0] : null;
    var container = field.closest(".field") || label || field;
    container.scrollIntoView();
    field.focus({ preventScroll: true });
  }

  // -- The progress bar of a directory import -----------------------------------------------
  //
  // The page asks the import's status every half second and moves the <progress> bar; the
  // message (a live region) is rewritten only when the import ends, so that a screen reader
  // is not flooded. Without this file the page offers a link that reloads it.

  function followImport(box) {
    var bar = box.querySelector("progress");
    var message = box.querySelector("[data-import-message]");
    var url = box.getAttribute("data-status-url");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          if (state.total > 0) {
            bar.max = state.total;
            bar.value = state.done;
          }
          if (state.status === "done") {
            bar.max = Math.max(state.total, 1);
            bar.value = bar.max;
            message.textContent = box.getAttribute("data-done-text")
              .replace("%(created)s", state.created).replace("%(updated)s", state.updated);
            box.setAttribute("data-finished", "done");
          } else if (state.status === "failed") {
            message.textContent = box.getAttribute("data-failed-text");
            box.setAttribute("data-finished", "failed");
          } else {
            window.setTimeout(poll, 500);
          }
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    if (!box.hasAttribute("data-finished")) {
      poll();
    }
  }

  // -- The progress bar of a bulletin's send ------------------------------------------------
  //
  // While a bulletin is scheduled or sending, the page asks its progress every second and
  // moves the <progress> bar and the counts. The message (a polite live region) changes only
  // at each quarter and at the end, so that a screen reader hears the news without a flood.

  function followBulletin(box) {
    var bar = box.querySelector("progress");
    var message = box.querySelector("[data-progress-message]");
    var url = box.getAttribute("data-progress-url");
    var spoken = -1;
    function say(state) {
      return box.getAttribute("data-text").replace("%(status)s", state.status_label)
        .replace("%(done)s", state.done).replace("%(total)s", state.total);
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          bar.max = Math.max(state.total || 0, 1);
          bar.value = state.done || 0;
          bar.textContent = (state.percent || 0) + " %";
          Object.keys(state.counts || {}).forEach(function (status) {
            var cell = box.querySelector("[data-count='" + status + "']");
            if (cell) { cell.textContent = state.counts[status]; }
          });
          var finished = state.status === "sent" || state.status === "cancelled" || state.send_status === "done";
          var quarter = Math.floor((state.percent || 0) / 25);
          if (finished) {
            message.textContent = say(state);
            box.setAttribute("data-finished", state.status);
          } else {
            if (quarter !== spoken && state.total > 0) {
              spoken = quarter;
              message.textContent = say(state);
            }
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    if (!box.hasAttribute("data-finished")) {
      poll();
    }
  }

  // -- The language toggle keeps what was typed (QUALITY.md L3) ---------------------------
  //
  // On a page whose form says data-keep-on-toggle="<name>", following the header's language
  // toggle puts what was typed in sessionStorage (this tab only); the page in the other
  // language, and only that page, puts it back into the same form and forgets it at once.

  var KEPT = "inquiry-desk:kept-on-toggle";
  var KEPT_FOR_MS = 5 * 60 * 1000;

  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      var type = element.type;
      return element.name && !element.disabled && element.name !== "csrf_token" &&
        type !== "submit" && type !== "button" && type !== "reset" && type !== "file" && type !== "password" &&
        !element.closest("[data-not-kept]");
    });
  }

  function rememberForm(form, targetPath) {
    var values = {};
    keptFields(form).forEach(function (element) {
      var list = values[element.name] || (values[element.name] = []);
      if (element.type === "checkbox" || element.type === "radio") {
        if (element.checked) {
          list.push(element.value);
        }
      } else if (element.hasAttribute("data-follows-page-language") &&
                 element.value === document.documentElement.lang) {
        // Left as the page's language: the page in the other language sets its own.
        delete values[element.name];
      } else {
        list.push(element.value);
      }
    });
    try {
      window.sessionStorage.setItem(KEPT, JSON.stringify({
        form: form.getAttribute("data-keep-on-toggle"),
        path: targetPath,
        at: Date.now(),
        values: values
      }));
    } catch (error) {
      // Storage refused (private mode, quota): the toggle still works, without the values.
    }
  }

  function takeRemembered() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(KEPT);
      window.sessionStorage.removeItem(KEPT);  // personal information: never kept longer
    } catch (error) {
      return null;
    }
    if (!raw) {
      return null;
    }
    try {
      return JSON.parse(raw);
    } catch (error) {
      return null;
    }
  }

  function restoreForm(form, kept) {
    var seen = {};
    keptFields(form).forEach(function (element) {
      if (!Object.prototype.hasOwnProperty.call(kept.values, element.name)) {
        return;
      }
      var list = kept.values[element.name];
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = list.indexOf(element.value) !== -1;
      } else {
        var index = seen[element.name] || 0;
        seen[element.name] = index + 1;
        if (index < list.length) {
          element.value = list[index];
        }
      }
    });
  }

  // -- Back where you were after a change (the inquiry page's triage forms) ----------------
  //
  // Each triage change is a form that posts and comes back to the same page, which starts
  // again at the top. A form marked data-return-focus notes the id of its button; on the
  // page it comes back to (the same path, or the form's data-return-path, within a minute)
  // the confirmation is shown where the person was: right after that form, and the focus
  // moves to it (issue 10), so that it is seen and read out; Shift+Tab goes back to the
  // button. Without the button on that page (a bulk change comes back to the list), the
  // confirmation at the top takes the focus.

  var RETURN = "inquiry-desk:return-focus";
  var RETURN_FOR_MS = 60 * 1000;

  function rememberFocus(event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-return-focus")) {
      return;
    }
    var button = event.submitter || form.querySelector("[type=submit]");
    if (!button || !button.id) {
      return;
    }
    var path = window.location.pathname;
    if (form.getAttribute("data-return-path")) {
      path = new URL(form.getAttribute("data-return-path"), window.location.href).pathname;
    }
    try {
      window.sessionStorage.setItem(RETURN, JSON.stringify({
        path: path, id: button.id, at: Date.now()
      }));
    } catch (error) {
      // Storage refused: the page still works, the focus starts at the top.
    }
  }

  function returnFocus() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(RETURN);
      window.sessionStorage.removeItem(RETURN);
    } catch (error) {
      return;
    }
    var saved = null;
    try {
      saved = raw ? JSON.parse(raw) : null;
    } catch (error) {
      return;
    }
    if (!saved || saved.path !== window.location.pathname || Date.now() - saved.at > RETURN_FOR_MS) {
      return;
    }
    var notices = document.querySelectorAll("main > .notice[role=status]");
    var button = document.getElementById(saved.id);
    if (!notices.length) {
      if (button && !button.disabled) {
        button.focus();
      }
      return;
    }
    var shown = notices[0];
    var anchor = button && (button.form || button.closest("form"));
    if (anchor) {
      // A copy of the confirmation (or refusal) right after the form: where the person is.
      shown = document.createElement("div");
      shown.className = notices[0].className;
      shown.setAttribute("data-confirmation-here", "");
      shown.textContent = Array.prototype.map.call(notices, function (notice) {
        return notice.textContent;
      }).join(" ");
      anchor.insertAdjacentElement("afterend", shown);
      // The one at the top stays for a glance, no longer a live region: the message is read once.
      Array.prototype.forEach.call(notices, function (notice) { notice.removeAttribute("role"); });
    }
    shown.setAttribute("tabindex", "-1");
    shown.setAttribute("role", "status");
    shown.focus();
  }

  // -- Files over the limits, told before they are sent ----------------------------------
  //
  // A file field names its limits (data-max-files, data-max-file-bytes, data-max-message-bytes)
  // and the sentence to show. Files over them would be refused only after the whole upload, or
  // the request cut at the server's body limit, so the browser says so when they are chosen,
  // under the field, and holds the form back until the choice fits.

  function checkFiles(input) {
    var files = Array.prototype.slice.call(input.files || []);
    var total = 0;
    var oneTooLarge = false;
    files.forEach(function (file) {
      total += file.size;
      oneTooLarge = oneTooLarge || file.size > Number(input.getAttribute("data-max-file-bytes"));
    });
    var over = oneTooLarge || files.length > Number(input.getAttribute("data-max-files")) ||
      total > Number(input.getAttribute("data-max-message-bytes"));
    var message = input.getAttribute("data-over-limit-text");
    var noteId = input.id + "-over-limit";
    var note = document.getElementById(noteId);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== noteId;
    });
    if (note) {
      note.remove();
    }
    input.setAttribute("aria-describedby", (over ? described.concat([noteId]) : described).join(" "));
    if (over) {
      note = document.createElement("p");
      note.id = noteId;
      note.className = "error-message";
      note.setAttribute("role", "alert");
      note.textContent = message;
      input.parentNode.insertBefore(note, input);
      input.setAttribute("aria-invalid", "true");
    } else if (!input.closest(".field-error")) {
      input.removeAttribute("aria-invalid");
    }
    return over;
  }

  // The forms are novalidate (the server's error summary speaks for them): hold one back here.
  function holdFilesOverLimit(event) {
    var inputs = event.target.querySelectorAll ?
      event.target.querySelectorAll("input[type=file][data-over-limit-text]") : [];
    Array.prototype.forEach.call(inputs, function (input) {
      if (!event.defaultPrevented && checkFiles(input)) {
        event.preventDefault();
        input.focus();
      }
    });
  }

  // -- Bulk changes: the status suggestions fit the "Set status" action only --------------

  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to the error summary so that screen readers announce it (QUALITY.md A2).
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.addEventListener("click", focusField);
      summary.focus();
    } else if (!document.querySelector("[autofocus]")) {
      returnFocus();
    }
    document.addEventListener("submit", holdFilesOverLimit);
    document.addEventListener("submit", rememberFocus);
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("input[type=file][data-over-limit-text]")) {
        checkFiles(event.target);
      }
    });

    // The reply's text is marked with the language of the reply (spelling, screen readers).
    var replyForm = document.querySelector("form.reply-form");
    if (replyForm && replyForm.elements.language && replyForm.elements.body) {
      replyForm.elements.language.addEventListener("change", function () {
        replyForm.elements.body.setAttribute("lang", replyForm.elements.language.value);
      });
    }

    var bulletinBox = document.querySelector("[data-bulletin-progress]");
    if (bulletinBox) {
      followBulletin(bulletinBox);
    }

    var importBox = document.querySelector("[data-import-progress]");
    if (importBox) {
      followImport(importBox);
    }

    var form = document.querySelector("form[data-keep-on-toggle]");
    var kept = takeRemembered();
    if (form && kept && kept.values && kept.form === form.getAttribute("data-keep-on-toggle") &&
        kept.path === window.location.pathname && Date.now() - kept.at < KEPT_FOR_MS) {
      restoreForm(form, kept);
    }
    var toggle = document.querySelector("a.lang-toggle");
    if (form && toggle) {
      toggle.addEventListener("click", function () {
        rememberForm(form, new URL(toggle.href, window.location.href).pathname);
      });
    }
  });
})();
