(function () {
  const root = document.getElementById(ROOT_ID);
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const data = JSON.parse(document.getElementById(ROOT_ID + "-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const svg = root.querySelector("svg");
  let seq = 0, block = 0;
  const fmt = v => v.toFixed(3);
  const token = (t, j) => "position " + (j + 1) + " (key " + t[0] + (t[1] === null ? ", the query" : ", value " + t[1]) + ")";
  function add(parent, name, attrs, text) {
    const e = document.createElementNS(NS, name);
    Object.entries(attrs).forEach(([a, v]) => e.setAttribute(a, String(v)));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function render() {
    root.querySelectorAll("button[data-seq]").forEach(b => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.seq) === seq));
    });
    root.querySelectorAll("input[type=radio]").forEach(r => { r.checked = Number(r.value) === block; });
    const heads = data.rows[block][seq], tokens = data.tokens[seq], answer = data.answer[seq];
    const n = tokens.length, uniform = 1 / n;
    const left = 64, col = 40, rowH = 64, barH = 52, top = 22;
    const width = left + n * col + 8, bottom = top + heads.length * rowH;
    svg.replaceChildren();
    svg.setAttribute("viewBox", "0 0 " + width + " " + (bottom + 44));
    add(svg, "rect", {x: left + answer * col + 1, y: top - 18, width: col - 2, height: bottom - top + 52,
                      class: "la-answer"});
    add(svg, "text", {x: left + answer * col + col / 2, y: top - 6, class: "la-label la-answer-label",
                      "text-anchor": "middle"}, "answer");
    heads.forEach((row, h) => {
      const base = top + h * rowH + barH + 4;
      add(svg, "text", {x: 4, y: base - barH / 2 + 4, class: "la-label"}, "head " + (h + 1));
      add(svg, "line", {x1: left, x2: left + n * col, y1: base, y2: base, class: "la-axis"});
      const yu = base - barH * uniform / data.top;
      add(svg, "line", {x1: left, x2: left + n * col, y1: yu, y2: yu, class: "la-uniform"});
      row.forEach((w, j) => {
        const hgt = barH * w / data.top;
        add(svg, "rect", {x: left + j * col + 6, y: base - hgt, width: col - 12, height: hgt,
                          class: "la-bar" + (j === answer ? " la-bar-answer" : ""),
                          "data-head": h, "data-pos": j, "data-weight": w});
      });
    });
    tokens.forEach((t, j) => {
      const cx = left + j * col + col / 2;
      add(svg, "text", {x: cx, y: bottom + 14, class: "la-label", "text-anchor": "middle"}, "k" + t[0]);
      add(svg, "text", {x: cx, y: bottom + 30, class: "la-label", "text-anchor": "middle"},
          t[1] === null ? "?" : "v" + t[1]);
    });
    add(svg, "text", {x: 4, y: bottom + 14, class: "la-label"}, "key");
    add(svg, "text", {x: 4, y: bottom + 30, class: "la-label"}, "value");
    const q = tokens[n - 1][0];
    const status = "Sequence " + (seq + 1) + ", block " + (block + 1) + ": the query asks for key " + q
      + "; the answer, value " + tokens[answer][1] + ", sits at " + token(tokens[answer], answer)
      + ". Bars: each head's weight from the query on every token; the dashed line is the uniform "
      + fmt(uniform) + ".";
    root.querySelector(".la-status").textContent = status;
    svg.setAttribute("aria-label", status);
    const list = root.querySelector(".la-text");
    list.replaceChildren();
    heads.forEach((row, h) => {
      const best = row.indexOf(Math.max(...row));
      const li = document.createElement("li");
      li.textContent = "Head " + (h + 1) + ": " + fmt(row[answer]) + " on the answer; its largest weight, "
        + fmt(row[best]) + ", on " + (best === answer ? "the answer" : token(tokens[best], best)) + ".";
      list.appendChild(li);
    });
  }
  root.addEventListener("click", e => {
    const b = e.target.closest("button[data-seq]");
    if (b) { seq = Number(b.dataset.seq); render(); }
  });
  root.addEventListener("change", e => {
    if (e.target.matches("input[type=radio]")) { block = Number(e.target.value); render(); }
  });
  render();
})();
