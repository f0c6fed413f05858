// Tessera Console: small enhancements over server-rendered pages, which work without this script.
"use strict";

// Code editors: Debian's CodeMirror when the server has it, plain text areas otherwise.
function enhanceEditors() {
  const areas = document.querySelectorAll("textarea[data-code]");
  if (areas.length === 0) return;
  const load = (src) => new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src; script.onload = resolve; script.onerror = reject;
    document.head.appendChild(script);
  });
  // The stylesheet first: CodeMirror measures its lines when it starts, and measures nothing without its styles.
  const styled = new Promise((resolve, reject) => {
    const style = document.createElement("link");
    style.rel = "stylesheet"; style.href = "/console/assets/codemirror.css";
    style.onload = resolve; style.onerror = reject;
    document.head.appendChild(style);
  });
  styled
    .then(() => load("/console/assets/codemirror.js"))
    .then(() => Promise.all([load("/console/assets/mode-javascript.js"), load("/console/assets/mode-sql.js")]))
    .then(() => {
      for (const area of areas) {
        const kind = area.dataset.code;
        const mode = kind === "javascript" ? "javascript" : kind === "json" ? { name: "javascript", json: true } : kind === "sql" ? "text/x-sql" : null;
        // Wrapped lines and a height that follows the text: the editor never scrolls, so the keyboard reaches all of it.
        const editor = window.CodeMirror.fromTextArea(area, { mode, lineNumbers: true, lineWrapping: true, viewportMargin: Infinity,
          extraKeys: { Tab: false, "Shift-Tab": false } });
        editor.getInputField().setAttribute("aria-label", area.labels && area.labels[0] ? area.labels[0].textContent : kind);
      }
    })
    .catch(() => { /* no CodeMirror here: the text areas stay */ });
}

// Directory: while a sync runs, refresh its progress every second.
function followSyncs() {
  const holder = document.querySelector("[data-progress]");
  if (!holder) return;
  const describe = (sync) => {
    if (!sync) return "";
    const done = sync.usersDone || 0;
    if (sync.running) return "running: " + done + (sync.usersTotal !== undefined ? " of " + sync.usersTotal : "") + " users";
    return "idle" + (sync.lastPassUsers !== undefined ? "; last pass " + sync.lastPassUsers + " users" : "");
  };
  let rounds = 0;
  const poll = () => {
    fetch(holder.dataset.progress, { credentials: "same-origin", cache: "no-store" })
      .then((response) => response.ok ? response.json() : null)
      .then((body) => {
        if (!body) return;
        let running = false;
        for (const connection of body.connections) {
          const cell = holder.querySelector('[data-sync="' + CSS.escape(connection.id) + '"]');
          if (cell) cell.textContent = describe(connection.sync);
          running = running || (connection.sync && connection.sync.running);
        }
        rounds += 1;
        if (running || rounds < 5) setTimeout(poll, 1000);
      })
      .catch(() => {});
  };
  poll();
}

// Charts: redraw the preview from the edit form's fields as they change (the chart is saved only by Save).
function livePreviews() {
  for (const holder of document.querySelectorAll("[data-preview]")) {
    const frame = document.getElementById(holder.dataset.frame);
    const form = holder.querySelector("form");
    if (!frame || !form) continue;
    let timer = null;
    const redraw = () => {
      const fields = new URLSearchParams();
      for (const name of ["title", "type", "index", "categories"]) {
        const field = form.elements.namedItem(name);
        if (field) fields.set(name, field.value);
      }
      if (!fields.get("index") || !fields.get("categories")) return;
      frame.hidden = false;
      frame.src = holder.dataset.preview + "?" + fields.toString();
    };
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(redraw, 400); });
    form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(redraw, 100); });
  }
}

// Secrets shown once: one click selects the whole value for copying.
function selectableSecrets() {
  for (const code of document.querySelectorAll(".secret code.copy")) {
    code.setAttribute("tabindex", "0");
    code.addEventListener("focus", () => {
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  enhanceEditors();
  followSyncs();
  livePreviews();
  selectableSecrets();
});
