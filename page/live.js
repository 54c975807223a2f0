// The tracking page follows its link while it is open: it subscribes to
// publicTrackingUpdated over graphql-sse and, on each event, fetches the
// page again and swaps its content in place, so the server renders every
// word, date and number in one place. On the end event (null) it shows the
// "link not available" content. Without this script the page is complete.
(function () {
  "use strict";
  var slug = location.pathname.split("/")[2];
  if (!slug || !window.fetch || !window.ReadableStream || !window.DOMParser) {
    return;
  }
  var query = "subscription ($slug: String!) { publicTrackingUpdated(slug: $slug) { vehicle { title } } }";
  var delay = 0; // backoff before the next connection, ms
  var seq = 0; // the latest refresh asked for; older answers are dropped
  var gone = false;

  function showGone() {
    if (gone) return;
    gone = true;
    var status = document.getElementById("live-status");
    var main = document.querySelector("main");
    if (!status || !main) return;
    // The same markup as the "link not available" page (notice.html).
    var card = document.createElement("div");
    card.className = "card notice";
    var icon = document.createElement("div");
    icon.className = "notice-icon";
    icon.setAttribute("aria-hidden", "true");
    var h1 = document.createElement("h1");
    h1.textContent = status.getAttribute("data-gone-heading");
    var p = document.createElement("p");
    p.textContent = status.getAttribute("data-gone-text");
    card.append(icon, h1, p);
    main.className = "wrap";
    main.replaceChildren(card);
    document.title = status.getAttribute("data-gone-title");
    status.textContent = h1.textContent;
    var foot = document.querySelector("footer");
    if (foot) foot.remove();
  }

  // refresh fetches the page as it is now and puts its content in place.
  // Each event asks for one; only the latest answer is shown, so a slow
  // older answer never overwrites a newer one.
  function refresh() {
    var mine = ++seq;
    fetch(location.pathname, { cache: "no-store", credentials: "omit", redirect: "error" })
      .then(function (res) {
        if (mine !== seq || gone) return null;
        if (res.status === 404) {
          showGone();
          return null;
        }
        return res.ok ? res.text() : null;
      })
      .then(function (html) {
        if (!html || mine !== seq || gone) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.querySelector("main");
        var main = document.querySelector("main");
        if (!next || !main) return;
        main.replaceWith(document.importNode(next, true));
        var status = document.getElementById("live-status");
        if (status) status.textContent = status.getAttribute("data-updated") || "";
      })
      .catch(function () {
        // The next event, or the next connection, refreshes again.
      });
  }

  function onEvent(name, data) {
    if (name !== "next" || !data) return;
    var msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (msg.errors && msg.errors.length) return;
    if (!msg.data) return;
    delay = 0;
    if (msg.data.publicTrackingUpdated === null) {
      showGone();
    } else {
      // The first event of every connection is the current state: after
      // a reconnection it replaces whatever was missed meanwhile.
      refresh();
    }
  }

  function connect() {
    if (gone) return;
    var ctrl = new AbortController();
    fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      signal: ctrl.signal,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ query: query, variables: { slug: slug } }),
    })
      .then(function (res) {
        var type = res.headers.get("Content-Type") || "";
        if (!res.ok || type.indexOf("text/event-stream") !== 0 || !res.body) {
          throw new Error("no stream");
        }
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buf = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) return;
            buf += decoder.decode(r.value, { stream: true }).replace(/\r\n?/g, "\n");
            var i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              var frame = buf.slice(0, i);
              buf = buf.slice(i + 2);
              var name = "message";
              var data = [];
              frame.split("\n").forEach(function (line) {
                if (line.indexOf("event:") === 0) name = line.slice(6).trim();
                else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
              });
              onEvent(name, data.join("\n"));
            }
            if (gone) {
              ctrl.abort();
              return;
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {})
      .then(retry);
  }

  // retry reconnects after a growing, jittered wait (1 s doubling to a
  // minute): a server restart must not bring every open page back at once.
  function retry() {
    if (gone) return;
    delay = Math.min(delay ? delay * 2 : 1000, 60000);
    setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
  }

  connect();
})();
