// agentkeys dashboard: confirmations, copying a new credential once, and
// the live feed. Everything works without it except the live updates and
// the copy button (forms then ask on a confirmation page).
"use strict";

document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (!question) return;
  if (!window.confirm(question)) {
    e.preventDefault();
    return;
  }
  var c = form.querySelector('input[name="confirm"]');
  if (c) c.value = "yes";
});

document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b) return;
  var input = document.getElementById(b.getAttribute("data-copy"));
  if (!input) return;
  input.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(input.value).then(function () { b.textContent = "Copied"; });
  }
});

(function () {
  var list = document.getElementById("feed");
  if (!list || !window.EventSource) return;
  var state = document.querySelector("[data-live-state]");
  var after = list.getAttribute("data-after") || "0";
  var src = new EventSource("/ui/events?after=" + encodeURIComponent(after));
  src.onopen = function () { if (state) state.textContent = "Live."; };
  src.onerror = function () { if (state) state.textContent = "Reconnecting…"; };
  src.addEventListener("record", function (ev) {
    var r;
    try { r = JSON.parse(ev.data); } catch (err) { return; }
    if (list.querySelector('[data-seq="' + r.seq + '"]')) return;
    list.insertBefore(render(r), list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
  });

  // render builds an entry like the server's template, with text nodes
  // only: nothing from the log is ever parsed as HTML.
  function render(r) {
    var li = el("li", "entry decision-" + r.decision + (r.anomaly ? " is-anomaly" : ""));
    li.setAttribute("data-seq", r.seq);
    var t = el("time");
    t.setAttribute("datetime", r.time);
    t.textContent = r.time.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
    li.appendChild(t);
    li.appendChild(text(" "));
    if (r.anomaly) {
      li.appendChild(el("span", "badge sev-" + r.anomaly.severity, "anomaly · " + r.anomaly.severity));
      li.appendChild(text(" "));
      li.appendChild(el("strong", "", r.anomaly.kind));
      li.appendChild(text(" " + r.anomaly.summary + (r.anomaly.response ? " (response: " + r.anomaly.response + ")" : "")));
    } else {
      li.appendChild(el("span", "badge", r.decision));
      li.appendChild(text(" "));
      li.appendChild(el("code", "", r.method));
      if (r.calls) li.appendChild(text(" " + r.calls.join(", ")));
    }
    if (r.key_id) {
      var a = el("a", "", "key " + r.key_id);
      a.href = "/ui/keys/" + encodeURIComponent(r.key_id);
      li.appendChild(text(" "));
      li.appendChild(a);
    }
    if (r.spend) {
      li.appendChild(text(" "));
      li.appendChild(el("span", "spend", r.spend.map(function (s) {
        return s.amount + " " + (s.symbol || s.asset) + (s.fee ? " (max fee)" : "");
      }).join(", ")));
    }
    if (r.tx_hash) {
      li.appendChild(text(" "));
      var h = el("code", "hash", "tx " + r.tx_hash.slice(0, 8) + "…" + r.tx_hash.slice(-4));
      h.title = r.tx_hash;
      li.appendChild(h);
    }
    if (r.caller_ip) {
      li.appendChild(text(" "));
      li.appendChild(el("span", "ip", "from " + r.caller_ip));
    }
    if (r.user_agent) {
      li.appendChild(text(" "));
      li.appendChild(el("span", "ua", "via " + r.user_agent));
    }
    if (r.reasons && r.reasons.length) {
      var ul = el("ul", "reasons");
      r.reasons.forEach(function (x) { ul.appendChild(el("li", "", x)); });
      li.appendChild(ul);
    }
    return li;
  }
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined) e.textContent = txt;
    return e;
  }
  function text(s) { return document.createTextNode(s); }
})();
