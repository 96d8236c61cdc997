// Plots of the simulate page: tumour cells by state, tumour diameter and drug exposure, one line per
// scenario (A solid, B dashed), drawn with the vendored Plotly from the rows the server embedded.
"use strict";
(function () {
  const dataEl = document.getElementById("sim-data");
  if (!dataEl) return;
  const results = JSON.parse(dataEl.textContent);
  const labels = JSON.parse(document.getElementById("sim-labels").textContent);
  const DASH = ["solid", "dash"];
  const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };
  function series(key, name, colour) {
    return results.map(function (res, i) {
      return { x: res.rows.map(function (r) { return r.day; }), y: res.rows.map(function (r) { return r[key]; }),
        name: name + " (" + labels[i] + ")", mode: "lines", line: { dash: DASH[i % 2], color: colour, width: 2 } };
    });
  }
  function layout(title, ytitle, log) {
    return { title: { text: title, font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 45 }, height: 320,
      xaxis: { title: { text: "day" } }, yaxis: { title: { text: ytitle }, type: log ? "log" : "linear" },
      legend: { orientation: "h", y: -0.25 } };
  }
  const cells = [].concat(series("S", "sensitive", "#4c78a8"), series("R_total", "resistant", "#d1495b"), series("C", "stem-like", "#7a3e9d"));
  window.Plotly.newPlot("plot-cells", cells, layout("Tumour cells by state", "million cells", true), config);
  window.Plotly.newPlot("plot-diameter", series("tumour_diameter_mm", "diameter", "#333333"), layout("Tumour diameter", "mm", false), config);
  const palette = ["#e07b00", "#3c8d2f", "#4c78a8", "#d1495b", "#7a3e9d"];
  const drugs = [];
  results.forEach(function (res, i) {
    Object.keys(res.rows[0]).filter(function (k) { return k.indexOf("conc_") === 0; }).forEach(function (k, j) {
      drugs.push({ x: res.rows.map(function (r) { return r.day; }), y: res.rows.map(function (r) { return r[k]; }),
        name: k.slice(5) + " (" + labels[i] + ")", mode: "lines", line: { dash: DASH[i % 2], color: palette[j % palette.length], width: 2 } });
    });
  });
  const drugLayout = layout("Drug exposure", "mg/L", false);
  if (!drugs.length) drugLayout.annotations = [{ text: "no drug in these scenarios", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }];
  window.Plotly.newPlot("plot-drugs", drugs, drugLayout, config);
})();
