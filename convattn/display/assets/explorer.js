(function () {
  const root = document.getElementById(ROOT_ID);
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const data = JSON.parse(document.getElementById(ROOT_ID + "-data").textContent);
  let sentence = 0, output = 0;
  const pct = v => Math.round(100 * v) + " %";
  const word = (s, j) => (j + 1) + " \u201c" + data.sentences[s][j] + "\u201d";
  function describe(kind) {
    const row = data.shares[kind][sentence][output];
    const on = row.map((v, j) => [v, j]).filter(p => p[0] > 0);
    const top = on.slice().sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 3);
    const n = row.length;
    const head = on.length === n ? "draws on all " + n + " inputs; the largest shares: "
                                 : "draws on " + on.length + " of " + n + " inputs: ";
    const list = (on.length <= 3 ? on.map(p => p) : top).map(p => word(sentence, p[1]) + " " + pct(p[0]));
    return data.names[kind] + ": output " + word(sentence, output) + " " + head + list.join(", ") + ".";
  }
  function render() {
    root.querySelectorAll("input[type=radio]").forEach(r => { r.checked = Number(r.value) === sentence; });
    root.querySelectorAll("button[data-pos]").forEach(b => {
      const i = Number(b.dataset.pos);
      b.textContent = (i + 1) + " " + data.sentences[sentence][i];
      b.setAttribute("aria-pressed", String(i === output));
    });
    root.querySelectorAll("thead th[data-col]").forEach(th => {
      th.title = data.sentences[sentence][Number(th.dataset.col)];
    });
    root.querySelectorAll(".cx-panel").forEach(panel => {
      const kind = panel.dataset.kind;
      const m = data.shares[kind][sentence];
      panel.querySelectorAll("tbody tr").forEach(tr => {
        const i = Number(tr.dataset.row);
        const max = Math.max(...m[i]);
        tr.classList.toggle("cx-row-on", i === output);
        tr.querySelectorAll("td").forEach(td => {
          const j = Number(td.dataset.col), v = m[i][j], a = max > 0 ? v / max : 0;
          td.style.backgroundColor = "rgba(102, 51, 204, " + a.toFixed(3) + ")";
          td.dataset.share = String(v);
          td.classList.toggle("cx-on", i === output && v > 0);
          td.classList.toggle("cx-dark", a > 0.5);
          td.querySelector(".cx-sr").textContent = pct(v);
        });
      });
      panel.querySelector(".cx-text").textContent = describe(kind);
    });
    root.querySelector(".cx-status").textContent = "Sentence " + (sentence + 1) + ", \u201c"
      + data.sentences[sentence].join(" ") + "\u201d; output " + word(sentence, output)
      + ". A dot marks the inputs it draws on; darker means a larger share.";
  }
  root.addEventListener("change", e => {
    if (e.target.matches("input[type=radio]")) { sentence = Number(e.target.value); render(); }
  });
  root.addEventListener("click", e => {
    const b = e.target.closest("button[data-pos], tbody tr");
    if (!b) return;
    output = Number(b.dataset.pos !== undefined ? b.dataset.pos : b.dataset.row);
    render();
  });
  root.addEventListener("mouseover", e => {
    const tr = e.target.closest("tbody tr");
    if (tr && Number(tr.dataset.row) !== output) { output = Number(tr.dataset.row); render(); }
  });
  render();
})();
