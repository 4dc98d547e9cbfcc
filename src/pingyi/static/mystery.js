/* Mystery-shopping visit form (暗访): keeps the answers in this browser
   (localStorage) until they are sent, so an evaluator can fill the form where there is
   no signal and send it when the connection is back. The form carries an id of its
   own (client_id): sending it again stores nothing new. Without this script the form
   posts as usual. Served from /static under the app's CSP (no inline script). */
(function () {
  "use strict";
  var form = document.getElementById("mystery-form");
  var status = document.getElementById("mystery-status");
  if (!form || !status || !window.fetch || !window.localStorage || !window.FormData) {
    return;
  }
  var key = "pingyi.mystery." + form.getAttribute("data-visit");
  var sending = false;

  function say(name) {
    status.textContent = status.getAttribute("data-" + name) || "";
    status.hidden = !status.textContent;
    status.setAttribute("data-state", name);
  }

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function fields() {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "_csrf_token" && typeof value === "string") {
        out[name] = value;
      }
    });
    return out;
  }

  function save(pending) {
    window.localStorage.setItem(key, JSON.stringify({ pending: pending, fields: fields() }));
  }

  function restore(saved) {
    Object.keys(saved.fields).forEach(function (name) {
      var value = saved.fields[name];
      var inputs = form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']");
      Array.prototype.forEach.call(inputs, function (input) {
        if (input.type === "radio" || input.type === "checkbox") {
          input.checked = input.value === value;
        } else {
          input.value = value;
        }
      });
    });
  }

  function send() {
    var saved = load();
    if (!saved || !saved.pending || sending) {
      return;
    }
    if (navigator.onLine === false) {
      say("waiting");
      return;
    }
    sending = true;
    say("sending");
    var body = new URLSearchParams();
    Object.keys(saved.fields).forEach(function (name) {
      body.append(name, saved.fields[name]);
    });
    body.append("_csrf_token", form.elements._csrf_token.value);
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { accept: "application/json" },
    })
      .then(function (response) {
        sending = false;
        if (response.status === 200) {
          window.localStorage.removeItem(key);
          say("sent");
          form.hidden = true;
        } else if (response.status === 409) {
          window.localStorage.removeItem(key);
          say("conflict");
          form.hidden = true;
        } else if (response.status === 400) {
          save(false); // kept as a draft; the server's own page shows what to fix
          say("invalid");
          form.submit();
        } else {
          say(response.type === "opaqueredirect" || response.status === 401 ? "login" : "waiting");
        }
      })
      .catch(function () {
        sending = false;
        say("waiting");
      });
  }

  var saved = load();
  if (saved && saved.fields) {
    restore(saved);
    say(saved.pending ? "waiting" : "draft");
  }
  form.addEventListener("change", function () {
    var current = load();
    if (!current || !current.pending) {
      save(false);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save(true);
    send();
  });
  window.addEventListener("online", send);
  window.setInterval(send, 30000); // a server that was down comes back without an event
  send();
})();
