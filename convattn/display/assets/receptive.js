(function () {
  const root = document.getElementById(ROOT_ID);
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const data = JSON.parse(document.getElementById(ROOT_ID + "-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const svg = root.querySelector("svg");
  const sliders = {};
  root.querySelectorAll("input[type=range]").forEach(el => { sliders[el.dataset.param] = el; });
  const value = p => data.values[p][Number(sliders[p].value)];
  // tree[l]: the positions of layer l (0 = input) that output 0 of the top layer depends on;
  // output p of a layer reads p·s + t·d, t = 0 … k − 1, of the layer below
  function tree(k, s, d, L) {
    const t = [[0]];
    for (let l = 0; l < L; l++) {
      const below = new Set();
      t[0].forEach(p => { for (let i = 0; i < k; i++) below.add(p * s + i * d); });
      t.unshift(Array.from(below).sort((a, b) => a - b));
    }
    return t;
  }
  function add(parent, name, attrs, text) {
    const e = document.createElementNS(NS, name);
    Object.entries(attrs).forEach(([a, v]) => e.setAttribute(a, String(v)));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function render() {
    const k = value("k"), s = value("s"), d = value("d"), L = value("L");
    Object.entries(sliders).forEach(([p, el]) => {
      el.setAttribute("aria-valuetext", String(value(p)));
      root.querySelector('output[for="' + el.id + '"]').textContent = String(value(p));
    });
    const [analytic, measured] = data.fields[[k, s, d, L].join(",")];
    const reached = tree(k, s, d, L);
    const jump = l => s ** l;
    const field = l => { let r = 1; for (let m = 0; m < l; m++) r += d * (k - 1) * s ** m; return r; };
    const margin = s ** L, lo = -margin, hi = field(L) - 1 + margin;  // the inputs drawn
    const left = 70, width = 680, top = 16, rowH = 56;
    const unit = width / (hi - lo + 1);
    const x = (l, p) => left + (p * jump(l) + (field(l) - 1) / 2 - lo + 0.5) * unit;
    const y = l => top + (L - l) * rowH;
    const radius = Math.max(1, Math.min(6, unit * 0.38));
    svg.replaceChildren();
    svg.setAttribute("viewBox", "0 0 " + (left + width + 10) + " " + (top + L * rowH + 44));
    const edges = add(svg, "g", {class: "rf-edges"});
    for (let l = 1; l <= L; l++) {
      reached[l].forEach(p => {
        for (let i = 0; i < k; i++) {
          add(edges, "line", {x1: x(l, p), y1: y(l), x2: x(l - 1, p * s + i * d), y2: y(l - 1)});
        }
      });
    }
    for (let l = 0; l <= L; l++) {
      const on = new Set(reached[l]);
      const kind = l === 0 ? "input" : l === L ? "output" : "hidden";
      add(svg, "text", {x: 4, y: y(l) + 4, class: "rf-label"}, l === 0 ? "input" : l === L ? "output" : "layer " + l);
      const first = Math.ceil((lo - (field(l) - 1) / 2) / jump(l));
      const last = Math.floor((hi - (field(l) - 1) / 2) / jump(l));
      for (let p = first; p <= last; p++) {
        add(svg, "circle", {cx: x(l, p), cy: y(l), r: on.has(p) ? radius : radius * 0.6,
                            class: "rf-node rf-" + kind + (on.has(p) ? " rf-on" : ""),
                            "data-layer": l, "data-pos": p});
      }
    }
    const yb = y(0) + 14;
    add(svg, "path", {d: "M" + x(0, 0) + " " + (yb - 4) + "V" + yb + "H" + x(0, analytic - 1) + "V" + (yb - 4),
                      class: "rf-bracket"});
    add(svg, "text", {x: (x(0, 0) + x(0, analytic - 1)) / 2, y: yb + 16, class: "rf-label", "text-anchor": "middle"},
        "r = " + analytic + " inputs");
    root.querySelector(".rf-analytic").textContent = String(analytic);
    root.querySelector(".rf-analytic").dataset.value = String(analytic);
    root.querySelector(".rf-measured").textContent = String(measured);
    root.querySelector(".rf-measured").dataset.value = String(measured);
    const powers = Array.from({length: L}, (_, m) => String(s ** m)).join(" + ");
    root.querySelector(".rf-formula").textContent = "r = 1 + d\u00b7(k \u2212 1)\u00b7(1 + s + \u2026 + s^(L\u22121)) = 1 + "
      + d + "\u00b7" + (k - 1) + "\u00b7(" + powers + ") = " + analytic;
    const n = reached[0].length;
    const holes = n < analytic ? "; it reaches " + n + " of them, the others fall between its taps" : "";
    const words = "Kernel " + k + ", stride " + s + ", dilation " + d + ", " + L + (L === 1 ? " layer" : " layers")
      + ": the orange output's field spans " + analytic + " inputs" + holes
      + " (the formula gives " + analytic + ", back-propagation measures " + measured + ").";
    svg.setAttribute("aria-label", words);
    root.querySelector(".rf-status").textContent = words;
  }
  root.addEventListener("input", e => { if (e.target.matches("input[type=range]")) render(); });
  render();
})();
