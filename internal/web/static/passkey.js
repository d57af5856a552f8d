// agentkeys dashboard: the owner's own devices. Registering a passkey and
// approving a change with one, through the browser's WebAuthn API; and,
// without the owner's key on the daemon, signing a 7702 key's grant with
// the browser wallet (EIP-1193 eth_signTypedData_v4). The server builds
// what is signed and checks the answers; this file only carries them.
"use strict";

(function () {
  function post(url, params) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || r.statusText);
        return j;
      });
    });
  }
  function say(el, msg, bad) {
    el.textContent = msg;
    el.className = bad ? "error" : "notice";
  }
  function supported() {
    return window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON && PublicKeyCredential.parseRequestOptionsFromJSON;
  }

  var enroll = document.getElementById("enroll");
  if (enroll) {
    var out = document.getElementById("enroll-status");
    var token = location.hash.slice(1);
    enroll.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!supported()) { say(out, "This browser cannot create passkeys.", true); return; }
      if (!token) { say(out, "This link has no token: use the whole link the CLI or the dashboard gave.", true); return; }
      var name = document.getElementById("passkey-name").value;
      post("/ui/enroll/begin", { token: token }).then(function (opts) {
        return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(opts.publicKey) });
      }).then(function (cred) {
        return post("/ui/enroll/finish", { token: token, name: name, credential: JSON.stringify(cred.toJSON()) });
      }).then(function (res) {
        enroll.hidden = true;
        history.replaceState(null, "", location.pathname); // the token is used up
        if (res.pending) {
          say(out, "Registered, but another passkey exists: approve adding this one at " + res.pending.approve_url);
        } else {
          say(out, "Passkey " + res.passkey.name + " registered (" + res.passkey.id + ").");
        }
        out.setAttribute("data-done", res.pending ? "pending" : "registered");
      }).catch(function (err) {
        say(out, "Not registered: " + err.message, true);
      });
    });
  }

  var approve = document.getElementById("approve");
  if (approve) {
    var box = document.getElementById("change");
    var id = box.getAttribute("data-change");
    var origin = box.getAttribute("data-origin");
    var status = document.getElementById("approve-status");
    var csrf = approve.querySelector('input[name="csrf"]').value;
    if (origin && location.origin !== origin) {
      say(status, "Your passkey works at " + origin + ": open this page there (" + origin + location.pathname + ").", true);
    }
    approve.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!supported()) { say(status, "This browser cannot use passkeys.", true); return; }
      post("/ui/approvals/" + id + "/begin", { csrf: csrf }).then(function (opts) {
        return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.publicKey) });
      }).then(function (cred) {
        return post("/ui/approvals/" + id + "/finish", { csrf: csrf, credential: JSON.stringify(cred.toJSON()) });
      }).then(function () {
        location.assign("/ui/approvals/" + id + "?done=approved");
      }).catch(function (err) {
        say(status, "Not approved: " + err.message, true);
        status.setAttribute("data-done", "refused");
      });
    });
  }
  var sign = document.getElementById("owner-sign");
  if (sign) {
    var form = document.getElementById("wallet-sign");
    var button = document.getElementById("wallet-sign-button");
    var said = document.getElementById("wallet-status");
    var key = sign.getAttribute("data-key");
    var owner = sign.getAttribute("data-owner");
    var typed = document.getElementById("typed-data").textContent;
    var wallet = window.ethereum;
    if (wallet && typeof wallet.request === "function") {
      button.hidden = false;
      say(said, "Your browser wallet can sign this grant as " + owner + ".");
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      wallet.request({ method: "eth_requestAccounts" }).then(function (accounts) {
        var mine = (accounts || []).some(function (a) { return String(a).toLowerCase() === owner.toLowerCase(); });
        if (!mine) throw new Error("the wallet's accounts do not include the owner " + owner + ": switch the wallet to it");
        return wallet.request({ method: "eth_signTypedData_v4", params: [owner, typed] });
      }).then(function (signature) {
        return post("/ui/keys/" + encodeURIComponent(key) + "/activate", { csrf: form.querySelector('input[name="csrf"]').value, signature: signature });
      }).then(function () {
        location.assign("/ui/keys/" + encodeURIComponent(key) + "?done=activated");
      }).catch(function (err) {
        say(said, "Not activated: " + (err && err.message ? err.message : err), true);
        said.setAttribute("data-done", "refused");
      });
    });
  }
})();
