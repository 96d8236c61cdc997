// Small helpers shared by the page scripts: fetch JSON, render a list of objects as a table, download text.
"use strict";
window.exo = (function () {
  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await r.json();
    if (!r.ok) {
      const msg = (body.detail || []).map(function (d) {
        const s = d.suggestions && d.suggestions.length ? " (did you mean " + d.suggestions.join(", ") + "?)" : "";
        return (d.loc || []).filter(function (x) { return x !== "query" && x !== "body"; }).join(".") + ": " + d.msg + s;
      }).join("; ");
      const err = new Error(msg || r.statusText);
      err.status = r.status;
      throw err;
    }
    return body;
  }
  function cellText(v) {
    if (v === null || v === undefined) return "";
    if (Array.isArray(v)) return v.map(cellText).join("; ");
    if (typeof v === "object") return JSON.stringify(v);
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(3);
    const node = /^(cell|phenotype|class|therapy:ther|entity:ent):(.+)$/.exec(String(v));  // a graph node id
    return node ? node[2].replace(/_/g, " ") : String(v);
  }
  // rows: list of objects; columns: keys to show (default: every scalar key of the first row)
  function table(rows, columns) {
    const t = document.createElement("table");
    t.className = "data";
    if (!rows.length) { t.innerHTML = "<tbody><tr><td class='muted'>none</td></tr></tbody>"; return t; }
    columns = columns || Object.keys(rows[0]).filter(function (k) { return typeof rows[0][k] !== "object" || Array.isArray(rows[0][k]); });
    const head = t.createTHead().insertRow();
    columns.forEach(function (c) { const th = document.createElement("th"); th.textContent = c.replace(/_/g, " "); head.appendChild(th); });
    const body = t.createTBody();
    rows.forEach(function (r) {
      const tr = body.insertRow();
      columns.forEach(function (c) {
        const td = tr.insertCell();
        const text = cellText(r[c]);
        if (/^(mech|hyp|int|bm|ther):[a-z0-9-]+$/.test(text)) {
          const a = document.createElement("a"); a.href = "/records/" + text; a.textContent = text; td.appendChild(a);
        } else { td.textContent = text; }
      });
    });
    return t;
  }
  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type }));
    const a = document.createElement("a");
    a.href = url; a.download = name; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
  return { getJSON: getJSON, table: table, download: download };
})();
