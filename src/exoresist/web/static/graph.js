// The graph view: a focused Cytoscape.js view built from /api/v1/graph/view, the query's tables from
// /api/v1/graph/{explain,routes,targets}, evidence on click (/fragments/evidence), neighbours on demand.
"use strict";
(function () {
  const app = document.getElementById("graph-app");
  if (!app) return;
  const p = { view: app.dataset.view, cargo: app.dataset.cargo, therapy: app.dataset.therapy, node: app.dataset.node };
  const status = document.getElementById("graph-status");
  const panel = document.getElementById("panel");
  const tables = document.getElementById("graph-tables");
  const expand = p.node ? [p.node] : [];
  const STRUCTURAL = ["secretes", "taken_up_by", "includes", "becomes"];
  const COLOURS = { cell: "#4c78a8", cargo: "#7a3e9d", entity: "#8c8c8c", pathway: "#3f9f9a", phenotype: "#d1495b",
    therapy_class: "#e07b00", therapy: "#edae49", intervention: "#3c8d2f" };
  const SHAPES = { cell: "round-rectangle", cargo: "ellipse", phenotype: "hexagon", therapy: "diamond",
    therapy_class: "diamond", intervention: "tag", pathway: "round-rectangle" };
  let cy = null;

  function qs(extra) {
    const q = new URLSearchParams();
    if (p.cargo) q.set("cargo", p.cargo);
    if (p.therapy) q.set("therapy", p.therapy);
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q;
  }
  function viewUrl() {
    const q = qs({ view: p.view });
    expand.forEach(function (n) { q.append("expand", n); });
    return "/api/v1/graph/view?" + q;
  }
  function queryUrl(format, table) {
    const endpoint = { explain: "explain", routes: "routes", targets: "targets" }[p.view];
    if (!endpoint) return null;
    const extra = format ? { format: format } : {};
    if (table) extra.table = table;
    return "/api/v1/graph/" + endpoint + "?" + qs(extra);
  }
  function ready() {
    if (p.view === "explain") return p.cargo && p.therapy;
    if (p.view === "routes" || p.view === "targets") return !!p.therapy;
    if (p.view === "cargo") return !!p.cargo;
    return expand.length > 0;
  }

  const style = [
    { selector: "node", style: { label: "data(label)", "font-size": 11, "text-wrap": "wrap", "text-max-width": 110,
      "text-valign": "bottom", "text-margin-y": 3, width: 22, height: 22, "background-color": function (n) { return COLOURS[n.data("node_type")] || "#999"; },
      shape: function (n) { return SHAPES[n.data("node_type")] || "ellipse"; }, "border-width": 0 } },
    { selector: "node[hidden > 0]", style: { "border-width": 3, "border-color": "#bbb", "border-style": "double" } },
    { selector: "edge", style: { width: 2, "curve-style": "bezier", "arrow-scale": 1.1, "line-color": "#2f8f46",
      "target-arrow-color": "#2f8f46", "target-arrow-shape": "triangle" } },
    { selector: "edge[sign < 0]", style: { "line-color": "#c0392b", "target-arrow-color": "#c0392b", "target-arrow-shape": "tee" } },
    { selector: "edge.structural", style: { "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", "line-style": "dashed" } },
    { selector: ".faded", style: { opacity: 0.15 } },
    { selector: ":selected", style: { "overlay-color": "#f3c969", "overlay-opacity": 0.45, "overlay-padding": 4 } },
  ];

  // The layered layout is wide and flat; stretch it to the shape of the canvas so labels stay readable.
  function fitted(nodes) {
    const box = document.getElementById("cy");
    const xs = nodes.map(function (n) { return n.position.x; }), ys = nodes.map(function (n) { return n.position.y; });
    const xr = Math.max.apply(null, xs) - Math.min.apply(null, xs) || 1, yr = Math.max.apply(null, ys) - Math.min.apply(null, ys) || 1;
    const aspect = box.clientWidth / Math.max(box.clientHeight, 1);
    const sy = Math.min(4, Math.max(1, xr / yr / aspect));
    const sx = Math.min(1, Math.max(0.45, (aspect * yr * sy) / xr));
    return function (p) { return { x: p.x * sx, y: p.y * sy }; };
  }

  function draw(data, fit) {
    const hidden = data.hidden || {};
    const elements = [];
    const place = fitted(data.elements.nodes);
    data.elements.nodes.forEach(function (n) {
      elements.push({ group: "nodes", data: Object.assign({}, n.data, { hidden: hidden[n.data.id] || 0 }), position: place(n.position) });
    });
    data.elements.edges.forEach(function (e) {
      elements.push({ group: "edges", data: e.data, classes: STRUCTURAL.indexOf(e.data.relation) >= 0 ? "structural" : "" });
    });
    if (!cy) {
      cy = window.cytoscape({ container: document.getElementById("cy"), elements: elements, style: style,
        layout: { name: "preset" }, minZoom: 0.1, maxZoom: 4 });
      window.exoGraph = cy;  // for scripting the view from the browser console
      cy.on("tap", "edge", function (ev) { showEdge(ev.target); });
      cy.on("tap", "node", function (ev) { showNode(ev.target); });
    } else {
      cy.elements().remove();
      cy.add(elements);
      cy.layout({ name: "preset" }).run();
    }
    if (fit !== false) cy.fit(undefined, 30);
    status.textContent = data.n_nodes + " nodes, " + data.n_edges + " edges in this view" +
      (Object.keys(hidden).length ? "; nodes with a double border have more neighbours (click one, then 'show neighbours')" : "");
  }

  function evidence(records) {
    const target = document.createElement("div");
    target.id = "panel-evidence";
    panel.appendChild(target);
    if (!records || !records.length) { target.innerHTML = "<p class='muted'>No record asserts this element (structural).</p>"; return; }
    const q = new URLSearchParams();
    records.forEach(function (r) { q.append("records", r); });
    window.htmx.ajax("GET", "/fragments/evidence?" + q, { target: "#panel-evidence", swap: "innerHTML" });
  }
  function line(tag, text, cls) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    panel.appendChild(el);
    return el;
  }
  function showEdge(edge) {
    const d = edge.data();
    panel.innerHTML = "";
    const src = cy.getElementById(d.source).data("label"), tgt = cy.getElementById(d.target).data("label");
    line("h3", src + " " + d.relation.replace(/_/g, " ") + " " + tgt);
    line("p", "sign " + (d.sign > 0 ? "+ (raises / promotes)" : "− (lowers / sensitises)") + (d.grade ? " · best evidence grade " + d.grade : ""), "muted");
    Object.keys(d).forEach(function (k) {  // anything else the graph gives (e.g. the cell of a step)
      if (["id", "source", "target", "relation", "sign", "grade", "grades", "records", "key", "interaction"].indexOf(k) < 0) {
        line("p", k.replace(/_/g, " ") + ": " + (Array.isArray(d[k]) ? d[k].join(", ") : d[k]), "muted");
      }
    });
    evidence(d.records);
  }
  function showNode(node) {
    const d = node.data();
    panel.innerHTML = "";
    line("h3", d.label);
    line("p", d.node_type.replace(/_/g, " ") + " · " + d.id, "muted");
    if (d.record) {
      const a = document.createElement("a");
      a.href = d.record.indexOf("ent:") === 0 ? "/entities/" + d.record : "/records/" + d.record;
      a.textContent = "open its page";
      panel.appendChild(a);
    }
    const more = document.createElement("button");
    more.type = "button";
    more.id = "show-neighbours";
    more.textContent = d.hidden > 0 ? "show neighbours (" + d.hidden + " more edges)" : "no more neighbours";
    more.disabled = !(d.hidden > 0);
    more.addEventListener("click", function () { expand.push(d.id); load(false); });
    panel.appendChild(more);
    const records = node.connectedEdges().map(function (e) { return e.data("records"); }).flat();
    evidence(Array.from(new Set(records)).slice(0, 12));
  }

  function highlight(nodes) {
    if (!cy) return;
    cy.elements().addClass("faded");
    nodes.forEach(function (id, i) {
      const n = cy.getElementById(id);
      n.removeClass("faded");
      if (i > 0) n.edgesWith(cy.getElementById(nodes[i - 1])).removeClass("faded");
    });
  }

  function renderTables(result) {
    tables.innerHTML = "";
    const add = function (title, rows, columns, onRow) {
      const h = document.createElement("h2"); h.textContent = title; tables.appendChild(h);
      const t = window.exo.table(rows, columns);
      if (onRow) Array.from(t.tBodies[0].rows).forEach(function (tr, i) { tr.classList.add("clickable"); tr.addEventListener("click", function () { onRow(rows[i]); }); });
      tables.appendChild(t);
    };
    if (p.view === "explain") {
      add(result.n_routes + " route(s) from " + result.query.cargo + " to " + result.query.therapy + " (click one to highlight it)",
        result.routes, ["effect", "net_sign", "weakest_evidence", "donor", "cells", "phenotype", "therapy", "anchor_records", "text"],
        function (r) { highlight(r.nodes); });
    } else if (p.view === "routes") {
      add(result.n_routes + " resistance routes from " + result.n_mechanisms + " mechanisms", result.mechanisms);
      add("by phenotype", Object.keys(result.by_phenotype).map(function (k) { return Object.assign({ phenotype: k }, result.by_phenotype[k]); }));
      add("by donor cell", Object.keys(result.by_donor).map(function (k) { return Object.assign({ donor: k }, result.by_donor[k]); }));
    } else if (p.view === "targets") {
      add("nodes ranked by routes cut (" + result.n_routes + " routes)", result.nodes,
        ["label", "node_type", "routes_cut", "share_of_routes", "in_min_cut", "in_min_cut_with_cells", "records"],
        function (r) { highlight([r.node]); });
      add("interventions", result.interventions, ["label", "kind", "acts_on", "routes_cut", "share_of_routes", "claimed_blocks"]);
    }
    const dl = document.getElementById("dl-tables");
    dl.innerHTML = "";
    Object.keys(result).filter(function (k) { return Array.isArray(result[k]); }).forEach(function (k) {
      dl.appendChild(document.createTextNode(" · " + k.replace(/_/g, " ") + ": "));
      ["tsv", "csv"].forEach(function (f) { const a = document.createElement("a"); a.href = queryUrl(f, k); a.textContent = f.toUpperCase() + " "; dl.appendChild(a); });
      if (k === Object.keys(result).filter(function (x) { return Array.isArray(result[x]); })[0]) {
        const a = document.createElement("a"); a.href = queryUrl(); a.textContent = "JSON"; dl.appendChild(a);
      }
    });
  }

  async function load(fit) {
    status.textContent = "Loading…";
    try {
      const data = await window.exo.getJSON(viewUrl());
      draw(data, fit);
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    }
  }

  document.getElementById("dl-view").addEventListener("click", function (ev) { ev.currentTarget.href = viewUrl(); });
  document.getElementById("dl-png").addEventListener("click", function (ev) {
    ev.preventDefault();
    if (cy) cy.png({ full: true, scale: 2, bg: "#ffffff", output: "blob-promise" }).then(function (blob) {
      const url = URL.createObjectURL(blob); const a = document.createElement("a");
      a.href = url; a.download = "exoresist-graph-view.png"; document.body.appendChild(a); a.click(); a.remove();
    });
  });

  if (!ready()) {
    status.textContent = "Choose a view and give its cargo and/or therapy (for 'node', a node id such as therapy:ther:sorafenib).";
    return;
  }
  load(true);
  const url = queryUrl();
  if (url) window.exo.getJSON(url).then(renderTables).catch(function (err) { tables.textContent = err.message; });
})();
