"""A real browser reads the built book: ``python tests/browser/check_book.py [_build/html]``.

Run by ``make browser-test`` (after the book is built), not by ``pytest`` (its name does not start with
``test_``). It copies the built HTML to a temporary folder, points the MathJax ``<script>`` at a local
MathJax 3 (``--mathjax``; the published site keeps the CDN), serves the copy on 127.0.0.1 at a free port, and
drives headless Chromium (Debian's ``chromium`` + ``chromium-driver``, through Selenium, with the driver's
path given so that Selenium Manager never downloads anything) through every HTML page of the build. For each
page it checks:

* no ``SEVERE`` entry in the browser console (JavaScript errors, failed requests);
* no request leaves 127.0.0.1 (the theme must not load fonts or scripts from elsewhere; links to Colab,
  Binder or GitHub are fine, they are only followed by a reader); the browser cannot resolve any other host;
* every ``<img>`` loaded (``naturalWidth > 0``);
* every internal link resolves: the file exists, and a ``#fragment`` is an ``id`` on the target page;
* every math element (``.math``) was typeset by MathJax (holds an ``mjx-container``), with no TeX error
  (``mjx-merror``) and no raw ``\\(``, ``\\[`` or ``$$`` left in the prose;
* on chapter pages (those built from a notebook, ``_sources/<page>.ipynb``): the launch buttons (Colab,
  Binder) point at that notebook, and the download buttons (.ipynb, .pdf) exist;
* every ``<img>`` has alt text that says something: not empty, not a file name, path or hash;
* accessibility: axe-core (``--axe``, the WCAG rule engine Lighthouse uses, served locally) runs on the page
  with its default rules; any *critical* or *serious* violation is a problem, and the counts per impact of
  every page are printed;
* the interactive connection matrix (``convattn.explorer``), where a page has one: the test picks an output
  word with the keyboard, points at a matrix row with the mouse, switches the sentence with the arrow keys, and
  checks what is marked: the convolution's kernel neighbours only, every input for FC and attention, FC's and
  the convolution's shares unchanged by the sentence and the attention layers' changed, and no panel uniform;
* every figure a reader can move (``convattn.display``; found by its ``data-figure`` attribute): the receptive
  field of a stack of convolutions (``receptive-field``: each slider is labelled and moved with an arrow key,
  and the drawing, the analytic and the measured field and the live text change; the two fields agree and
  the highlighted inputs span them) and the attention of a lookup head (``lookup-attention``: Enter on a
  sequence button and an arrow key on the block radios redraw the bars, which equal the embedded weights,
  with the answer marked). ``python tests/browser/figures_demo.py DIR`` writes a page with every figure, to
  run this check on before a chapter has them.

It saves a full-page screenshot of each page under ``--screenshots`` (default ``_build/screenshots``),
prints a summary, and exits 1 with the list of what is broken (2 when it cannot run at all).
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Headless, as root, on a machine without a network: no sandbox, no GPU, none of Chromium's own background
# connections (each would be refused and logged), and no host name resolves except 127.0.0.1.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "_panels_static"}
MATHJAX_CDN = re.compile(r'src="(?:https?:)?//[^"]*?mathjax[^"]*?/es5/([\w.-]+\.js)"', re.IGNORECASE)
MATHJAX_LOCAL = "_mathjax"  # where the local MathJax is served from, at the site root
AXE_LOCAL = "_axe/axe.min.js"  # where the local axe-core is served from
IMPACTS = ("critical", "serious", "moderate", "minor")
FAILING_IMPACTS = {"critical", "serious"}
# An alt text that is only a file name, a path or a hash says nothing about the image.
FILE_LIKE_ALT = re.compile(r"^\S*(\.(png|jpe?g|gif|svg|webp)|/\S*)$|^[0-9a-f]{8,}$", re.IGNORECASE)
LAUNCHERS = ("Colab", "Binder")
MAX_SHOT_HEIGHT = 16000  # px; longer pages are cut in the screenshot only
TIMEOUT_S = 60

# Runs in the page once it has loaded: waits for MathJax and the images, then reports what it sees.
INSPECT_JS = r"""
const done = arguments[arguments.length - 1];
const timeoutMs = arguments[0];
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + timeoutMs;
  const mathNodes = Array.from(document.querySelectorAll('.math'));
  let mathjax = 'not needed';
  if (mathNodes.length) {
    const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
    while (!ready() && Date.now() < deadline) await sleep(50);
    if (!ready()) {
      mathjax = 'MathJax never started (is its <script> on the page and served?)';
    } else {
      try { await MathJax.startup.promise; mathjax = 'ok'; }
      catch (e) { mathjax = 'MathJax failed: ' + e; }
    }
  }
  const imgs = Array.from(document.images);
  imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  while (imgs.some(i => !i.complete) && Date.now() < deadline) await sleep(50);
  const rawTeX = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest('pre, code, script, style, mjx-container, .highlight, textarea')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT
  });
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent;
    const m = t.match(/\\\(|\\\[|\$\$/);
    if (m) rawTeX.push(t.slice(Math.max(0, m.index - 30), m.index + 50).trim());
  }
  const launch = Array.from(document.querySelectorAll('.dropdown-launch-buttons a'))
    .map(a => ({title: [a.getAttribute('title'), a.getAttribute('data-bs-original-title'), a.textContent]
                  .filter(Boolean).join(' ').trim(), href: a.href}));
  const download = Array.from(document.querySelectorAll('.btn-download-source-button'))
    .map(a => a.getAttribute('href') || '');
  done({
    url: location.href,
    mathjax,
    math: mathNodes.map(n => ({ok: n.querySelector('mjx-container') !== null,
                               text: (n.textContent || '').trim().slice(0, 60)})),
    mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
      .map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 60)),
    rawTeX,
    images: imgs.map(i => ({src: i.getAttribute('src'), url: i.currentSrc || i.src, alt: i.getAttribute('alt'),
                            complete: i.complete, width: i.naturalWidth})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => ({raw: a.getAttribute('href'), url: a.href})),
    launch,
    download,
    pdfButton: document.querySelector('.btn-download-pdf-button') !== null,
    hasIcon: document.querySelector('link[rel~="icon"]') !== null,
  });
})().catch(e => done({fatal: String(e)}));
"""


# Loads axe-core from the local server into the page and runs its default rules on the whole document.
AXE_JS = r"""
const done = arguments[arguments.length - 1];
const src = arguments[0];
(async () => {
  if (!window.axe) {
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(s);
    });
  }
  const result = await axe.run(document, {resultTypes: ['violations']});
  done({violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))});
})().catch(e => done({fatal: String(e)}));
"""

# The state of one connection-matrix widget (convattn.explorer): what is selected and what each panel marks.
EXPLORER_STATE_JS = r"""
const root = arguments[0];
const checked = root.querySelector('input[type=radio]:checked');
return {
  ready: root.dataset.ready === '1',
  sentence: checked ? Number(checked.value) : -1,
  words: root.querySelectorAll('button[data-pos]').length,
  pressed: Array.from(root.querySelectorAll('button[aria-pressed=true]')).map(b => Number(b.dataset.pos)),
  panels: Array.from(root.querySelectorAll('.cx-panel')).map(p => ({
    kind: p.dataset.kind,
    rows: Array.from(p.querySelectorAll('tr.cx-row-on')).map(tr => Number(tr.dataset.row)),
    on: Array.from(p.querySelectorAll('tr.cx-row-on td.cx-on')).map(td => Number(td.dataset.col)),
    shares: Array.from(p.querySelectorAll('tr.cx-row-on td')).map(td => Number(td.dataset.share)),
    matrix: Array.from(p.querySelectorAll('tbody td')).map(td => Number(td.dataset.share)),
    text: p.querySelector('.cx-text').textContent,
  })),
};
"""


# The state of one receptive-field figure (convattn.receptive_field_figure): its sliders and what it draws.
RECEPTIVE_STATE_JS = r"""
const root = arguments[0];
const sliders = Array.from(root.querySelectorAll('input[type=range]'));
const circles = Array.from(root.querySelectorAll('svg circle'));
return {
  ready: root.dataset.ready === '1',
  sliders: sliders.map(i => ({param: i.dataset.param, index: Number(i.value), max: Number(i.max),
                              text: i.getAttribute('aria-valuetext'),
                              labelled: root.querySelector('label[for="' + i.id + '"]') !== null})),
  analytic: Number(root.querySelector('.rf-analytic').dataset.value),
  measured: Number(root.querySelector('.rf-measured').dataset.value),
  rows: new Set(circles.map(c => c.dataset.layer)).size,
  inputs: circles.filter(c => c.dataset.layer === '0' && c.classList.contains('rf-on')).map(c => Number(c.dataset.pos)),
  drawing: circles.map(c => c.dataset.layer + ':' + c.dataset.pos + (c.classList.contains('rf-on') ? '*' : '')).join(' ')
    + ' / ' + root.querySelectorAll('svg line').length,
  status: root.querySelector('[aria-live]') ? root.querySelector('[aria-live]').textContent : null,
  focused: document.activeElement ? document.activeElement.dataset.param || null : null,
};
"""

# The state of one lookup-attention figure (convattn.lookup_attention_figure): what is picked, what is drawn,
# and the embedded data the bars must show.
LOOKUP_STATE_JS = r"""
const root = arguments[0];
const pressed = Array.from(root.querySelectorAll('button[data-seq][aria-pressed=true]'));
const checked = root.querySelector('input[type=radio]:checked');
const bars = Array.from(root.querySelectorAll('svg rect.la-bar'));
return {
  ready: root.dataset.ready === '1',
  data: JSON.parse(document.getElementById(root.id + '-data').textContent),
  sequences: root.querySelectorAll('button[data-seq]').length,
  blocks: root.querySelectorAll('input[type=radio]').length,
  seq: pressed.map(b => Number(b.dataset.seq)),
  block: checked ? Number(checked.value) : -1,
  bars: bars.map(b => [Number(b.dataset.head), Number(b.dataset.pos), Number(b.dataset.weight)]),
  marked: bars.filter(b => b.classList.contains('la-bar-answer')).map(b => Number(b.dataset.pos)),
  status: root.querySelector('[aria-live]') ? root.querySelector('[aria-live]').textContent : null,
  items: Array.from(root.querySelectorAll('.la-text li')).map(li => li.textContent),
};
"""


class SetupError(Exception):
    """The check cannot run (no build, no browser, no local MathJax): exit status 2."""


@dataclass
class Totals:
    """What was checked, over all pages."""

    pages: int = 0
    chapters: int = 0
    redirects: int = 0
    images: int = 0
    links: int = 0
    external_links: int = 0
    math: int = 0
    explorers: int = 0
    figures: dict[str, int] = field(default_factory=dict)  # data-figure kind -> how many were driven
    # axe-core: impact -> [violations (a rule failing on a page), elements]; and rule id -> impact, pages, elements
    axe: dict[str, list[int]] = field(default_factory=lambda: {i: [0, 0] for i in IMPACTS})
    axe_rules: dict[str, list[Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the site


def find_pages(root: Path) -> list[Path]:
    """Every HTML page of the build (relative to ``root``), not the theme's assets."""
    found = [p.relative_to(root) for p in root.rglob("*.html")]
    return sorted(p for p in found if not NOT_PAGES.intersection(p.parts[:-1]))


def rewrite_mathjax(text: str) -> tuple[str, int]:
    """Point every MathJax 3 CDN ``<script src>`` at the local copy; returns the text and the count."""
    return MATHJAX_CDN.subn(lambda m: f'src="/{MATHJAX_LOCAL}/{m.group(1)}"', text)


def prepare_site(build: Path, mathjax: Path, dest: Path, axe: Path) -> int:
    """Copy the build to ``dest`` with MathJax and axe-core served locally; returns how many pages load MathJax."""
    shutil.copytree(build, dest)
    (dest / MATHJAX_LOCAL).symlink_to(mathjax.resolve(), target_is_directory=True)
    (dest / AXE_LOCAL).parent.mkdir()
    shutil.copyfile(axe, dest / AXE_LOCAL)
    rewritten = 0
    for page in find_pages(dest):
        path = dest / page
        text, count = rewrite_mathjax(path.read_text(encoding="utf-8"))
        if count:
            for name in MATHJAX_CDN.findall(path.read_text(encoding="utf-8")):
                if not (mathjax / name).is_file():
                    raise SetupError(f"{page} loads MathJax's {name}, which the local copy {mathjax} lacks")
            path.write_text(text, encoding="utf-8")
            rewritten += 1
    return rewritten


def redirect_target(path: Path) -> str | None:
    """The ``url=`` of a ``<meta http-equiv="refresh">`` page (Sphinx's root index.html), else None."""
    match = re.search(
        r'<meta\s+http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', path.read_text(encoding="utf-8"), re.I
    )
    return match.group(1) if match else None


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


@functools.cache
def anchors(path: Path) -> frozenset[str]:
    """The ``id`` (and ``<a name>``) values of an HTML file."""
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def resolve_local(root: Path, url_path: str) -> Path:
    """The file a URL path of the local server serves."""
    target = root / unquote(url_path).lstrip("/")
    return target / "index.html" if url_path.endswith("/") or target.is_dir() else target


def link_problem(root: Path, origin: str, url: str) -> str | None:
    """Why an internal link (absolute URL on the local server ``origin``) is broken, or None."""
    parts = urlsplit(url)
    target = resolve_local(root, parts.path)
    if not target.is_file():
        return f"links to {parts.path} (missing file)"
    fragment = unquote(parts.fragment)
    if fragment and target.suffix == ".html" and fragment not in anchors(target):
        return f"links to {parts.path}#{fragment} (no such id on that page)"
    return None


# ---------------------------------------------------------------- serving and browsing


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request (failed ones show up in the browser console)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 at a free port; yields the origin, ``http://127.0.0.1:PORT``."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(binary: str, driver_path: str, profile: Path) -> Iterator[Any]:
    """Headless Chromium under Selenium, with the given driver (Selenium Manager is never asked)."""
    for path, package in ((binary, "chromium"), (driver_path, "chromium-driver")):
        if not Path(path).is_file():
            raise SetupError(f"{path} not found: install Debian's {package} (make browser-deps does it)")
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError as err:
        raise SetupError("selenium is not installed in this Python: pip install -r requirements.txt") from err
    options = Options()
    options.binary_location = binary
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    log = profile.parent / "chromedriver.log"
    try:
        driver = webdriver.Chrome(
            service=Service(executable_path=driver_path, log_output=str(log)), options=options
        )
    except WebDriverException as err:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise SetupError(f"Chromium did not start: {err.msg}\n{tail}") from err
    driver.set_page_load_timeout(TIMEOUT_S)
    driver.set_script_timeout(TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()


def outside_requests(driver: Any, origin: str) -> list[str]:
    """URLs the page asked for that are not on the local server (from Chromium's network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and not url.startswith(origin):
                urls.append(url)
    return sorted(set(urls))


def screenshot(driver: Any, path: Path) -> None:
    """A full-page PNG (cut at MAX_SHOT_HEIGHT px): the viewport is made as tall as the page, then restored."""
    size = driver.get_window_size()
    width, height = size["width"], size["height"]
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(full, height), MAX_SHOT_HEIGHT))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(width, height)


# ---------------------------------------------------------------- one page


def check_page(driver: Any, site: Path, origin: str, page: Path, shots: Path, totals: Totals) -> list[str]:
    """Load one page, check it, screenshot it; returns its problems."""
    problems: list[str] = []
    driver.get(f"{origin}/{page.as_posix()}")
    seen = driver.execute_async_script(INSPECT_JS, TIMEOUT_S * 1000 - 5000)
    if "fatal" in seen:
        return [f"the page inspection failed: {seen['fatal']}"]

    for entry in driver.get_log("browser"):
        message = entry["message"].replace(origin, "")
        # Without a <link rel="icon">, the browser itself asks for /favicon.ico; the page did not.
        if entry["level"] == "SEVERE" and not (message.startswith("/favicon.ico ") and not seen["hasIcon"]):
            problems.append(f"console error: {message}")
    problems += [f"loads an outside resource: {url}" for url in outside_requests(driver, origin)]

    for image in seen["images"]:
        totals.images += 1
        if not image["complete"] or image["width"] == 0:
            problems.append(f"image did not load: {image['src']}")
        problem = alt_problem(image["alt"], image["src"] or "")
        if problem:
            problems.append(f"image {problem}: {image['src']}")

    checked: set[str] = set()
    for link in seen["links"]:
        url, raw = link["url"], link["raw"]
        if raw in {"", "#"} or url in checked:
            continue
        checked.add(url)
        if url.startswith(origin + "/"):
            totals.links += 1
            problem = link_problem(site, origin, url)
            if problem:
                problems.append(f"{problem}: href={raw!r}")
        elif urlsplit(url).scheme in {"http", "https"}:
            totals.external_links += 1

    if seen["mathjax"] not in {"ok", "not needed"}:
        problems.append(seen["mathjax"])
    for math in seen["math"]:
        totals.math += 1
        if not math["ok"]:
            problems.append(f"math not typeset: {math['text']!r}")
    problems += [f"TeX error in math: {error}" for error in seen["mathErrors"]]
    problems += [f"raw TeX left in the text: {text!r}" for text in seen["rawTeX"]]

    if (site / "_sources" / page.with_suffix(".ipynb")).is_file():
        totals.chapters += 1
        problems += chapter_buttons(page, seen)

    for root in driver.find_elements("css selector", "div.cx"):
        totals.explorers += 1
        problems += check_explorer(driver, root)
    for kind, check in FIGURE_CHECKS.items():
        for root in driver.find_elements("css selector", f'[data-figure="{kind}"]'):
            totals.figures[kind] = totals.figures.get(kind, 0) + 1
            problems += check(driver, root)
    problems += check_axe(driver, origin, totals)

    screenshot(driver, shots / (page.with_suffix("").as_posix().replace("/", "__") + ".png"))
    return problems


def alt_problem(alt: str | None, src: str) -> str | None:
    """Why an image's alt text says nothing (missing, empty, a file name, a path or a hash), or None."""
    if alt is None:
        return "has no alt text"
    text = alt.strip()
    if not text:
        return "has an empty alt text"
    name = src.rsplit("/", 1)[-1]
    if FILE_LIKE_ALT.match(text) or text in {name, name.rsplit(".", 1)[0]}:
        return f"has a file name for alt text ({text!r})"
    return None


def check_axe(driver: Any, origin: str, totals: Totals) -> list[str]:
    """Run axe-core on the page; counts every violation, returns the critical and serious ones."""
    found = driver.execute_async_script(AXE_JS, f"{origin}/{AXE_LOCAL}")
    if "fatal" in found:
        return [f"axe-core did not run: {found['fatal']}"]
    problems = []
    for v in found["violations"]:
        impact = v["impact"] or "minor"
        totals.axe[impact][0] += 1
        totals.axe[impact][1] += v["count"]
        rule = totals.axe_rules.setdefault(v["id"], [impact, 0, 0])
        rule[1] += 1
        rule[2] += v["count"]
        if impact in FAILING_IMPACTS:
            problems.append(
                f"accessibility ({impact}) {v['id']}: {v['help']}, on {v['count']} elements, e.g. "
                + "; ".join(v["targets"])
            )
    return problems


def check_explorer(driver: Any, root: Any) -> list[str]:
    """Drive one connection-matrix widget as a reader would; returns what it marks wrongly."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def state() -> dict[str, Any]:
        return driver.execute_script(EXPLORER_STATE_JS, root)

    def panel(seen: dict[str, Any], kind: str) -> dict[str, Any]:
        return next(p for p in seen["panels"] if p["kind"] == kind)

    first = state()
    if not first["ready"]:
        return ["the connection-matrix widget did not start (its script did not run)"]
    kinds = [p["kind"] for p in first["panels"]]
    layers = [
        "fc",
        "conv",
        "basic attention",
        "qkv attention",
        "relative attention",
        "long conv",
        "gated conv",
    ]
    if kinds != layers:
        return [f"the connection-matrix widget shows the panels {kinds}, not the seven layers"]
    causal = {"long conv", "gated conv"}  # output i reads inputs 0 … i
    n, problems = first["words"], []
    pos = n // 2

    # keyboard: Tab-reachable buttons, Space picks the output word
    button = root.find_element("css selector", f'button[data-pos="{pos}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", root)
    driver.execute_script("arguments[0].focus()", button)
    button.send_keys(Keys.SPACE)
    before = state()
    if before["pressed"] != [pos] or any(p["rows"] != [pos] for p in before["panels"]):
        problems.append(f"widget: Space on output button {pos + 1} did not select that row in every panel")
    conv = panel(before, "conv")
    if conv["on"] != [pos - 1, pos, pos + 1] or f"3 of {n} inputs" not in conv["text"]:
        problems.append(
            f"widget: convolution marks inputs {conv['on']} for output {pos}, not its 3 neighbours"
        )
    for kind in kinds:
        reads = list(range(pos + 1)) if kind in causal else list(range(n))
        if kind != "conv" and panel(before, kind)["on"] != reads:
            problems.append(f"widget: {kind} marks inputs {panel(before, kind)['on']}, not {reads}")
        if max(panel(before, kind)["matrix"]) <= 2 / n:
            problems.append(f"widget: {kind}'s matrix is flat (no share above twice the uniform 1/{n})")

    # mouse: pointing at a row of a matrix selects that output everywhere
    row = root.find_element("css selector", '.cx-panel[data-kind="qkv attention"] tbody tr[data-row="1"]')
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'})", row
    )  # not under the sticky header
    ActionChains(driver).move_to_element(row).perform()
    hovered = state()
    if hovered["pressed"] != [1] or any(p["rows"] != [1] for p in hovered["panels"]):
        problems.append("widget: pointing at row 2 of a matrix did not select output 2")
    button.click()

    # keyboard: the arrow keys step through the sentences; FC's and the convolutions' matrices stay, the
    # attention layers' and the gated convolution's change (over all sentences: swapping two names leaves basic attention as it was)
    radio = root.find_element("css selector", 'input[type=radio][value="0"]')
    driver.execute_script("arguments[0].focus()", radio)
    seen = [before]
    for sentence in range(1, len(root.find_elements("css selector", "input[type=radio]"))):
        driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
        seen.append(state())
        if seen[-1]["sentence"] != sentence or seen[-1]["pressed"] != [pos]:
            problems.append(
                f"widget: the arrow key did not switch to sentence {sentence + 1} (or lost the output)"
            )
    if len(seen) < 2:
        problems.append("widget: only one sentence to choose from")
    for kind in kinds:
        changed = any(panel(s, kind)["matrix"] != panel(before, kind)["matrix"] for s in seen[1:])
        if changed != (kind not in {"fc", "conv", "long conv"}):
            problems.append(
                f"widget: {kind}'s matrix {'changed' if changed else 'did not change'} with the sentence"
            )
        conv_rows = [panel(s, "conv")["on"] for s in seen]
        if kind == "conv" and any(r != [pos - 1, pos, pos + 1] for r in conv_rows):
            problems.append(f"widget: the convolution's marked inputs changed with the sentence: {conv_rows}")
    driver.execute_script("arguments[0].focus(); arguments[0].click()", radio)
    return problems


def check_receptive_field(driver: Any, root: Any) -> list[str]:
    """Drive one receptive-field figure with the keyboard; returns what it draws wrongly."""
    from selenium.webdriver.common.keys import Keys

    def state() -> dict[str, Any]:
        return driver.execute_script(RECEPTIVE_STATE_JS, root)

    def drawn(seen: dict[str, Any], when: str) -> list[str]:
        wrong = []
        inputs, depth = seen["inputs"], next(int(s["text"]) for s in seen["sliders"] if s["param"] == "L")
        span = max(inputs) - min(inputs) + 1 if inputs else 0
        if not seen["analytic"] == seen["measured"] == span:
            wrong.append(
                f"receptive field ({when}): analytic {seen['analytic']}, measured {seen['measured']}, "
                f"highlighted inputs span {span}: they must agree"
            )
        if seen["rows"] != depth + 1:
            wrong.append(f"receptive field ({when}): {seen['rows']} rows of dots for depth {depth}")
        return wrong

    first = state()
    if not first["ready"]:
        return ["the receptive-field figure did not start (its script did not run)"]
    params = [s["param"] for s in first["sliders"]]
    if params != ["k", "s", "d", "L"] or not all(s["labelled"] for s in first["sliders"]):
        return [
            f"the receptive-field figure has the sliders {params}, each with a label: expected k, s, d, L"
        ]
    if first["status"] is None:
        return ["the receptive-field figure has no live region (aria-live) saying what it draws"]
    problems = drawn(first, "as loaded")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", root)
    before = first
    for slider in first["sliders"]:
        param = slider["param"]
        element = root.find_element("css selector", f'input[data-param="{param}"]')
        driver.execute_script("arguments[0].focus()", element)
        now = next(s for s in before["sliders"] if s["param"] == param)
        step, key = (1, Keys.ARROW_RIGHT) if now["index"] < now["max"] else (-1, Keys.ARROW_LEFT)
        driver.switch_to.active_element.send_keys(key)
        after = state()
        moved = next(s for s in after["sliders"] if s["param"] == param)
        if moved["index"] != now["index"] + step or after["focused"] != param:
            problems.append(f"receptive field: the arrow key did not move the {param} slider")
            continue
        if moved["text"] == now["text"]:
            problems.append(
                f"receptive field: the {param} slider moved, the figure did not follow (aria-valuetext)"
            )
            continue
        if after["drawing"] == before["drawing"] or after["status"] == before["status"]:
            problems.append(
                f"receptive field: moving {param} from {now['text']} to {moved['text']} did not change "
                "the drawing and the live text"
            )
        problems += drawn(after, f"{param} = {moved['text']}")
        before = after
    return problems


def check_lookup_attention(driver: Any, root: Any) -> list[str]:
    """Drive one lookup-attention figure with the keyboard; returns what it draws wrongly."""
    from selenium.webdriver.common.keys import Keys

    def state() -> dict[str, Any]:
        return driver.execute_script(LOOKUP_STATE_JS, root)

    def drawn(seen: dict[str, Any], when: str) -> list[str]:
        seq, block, data = seen["seq"], seen["block"], seen["data"]
        if len(seq) != 1 or block < 0:
            return [f"lookup attention ({when}): picked sequences {seq}, block {block}: expected one of each"]
        rows = data["rows"][block][seq[0]]
        wrong = []
        shown = [[w for h, _, w in seen["bars"] if h == head] for head in range(len(rows))]
        if shown != rows or len(seen["bars"]) != sum(map(len, rows)):
            wrong.append(f"lookup attention ({when}): the bars are not the embedded weights of that block")
        answer = data["answer"][seq[0]]
        if seen["marked"] != [answer] * len(rows):
            wrong.append(
                f"lookup attention ({when}): marked positions {seen['marked']}, the answer is {answer}"
            )
        if len(seen["items"]) != len(rows):
            wrong.append(
                f"lookup attention ({when}): {len(seen['items'])} lines of text for {len(rows)} heads"
            )
        return wrong

    first = state()
    if not first["ready"]:
        return ["the lookup-attention figure did not start (its script did not run)"]
    if first["sequences"] < 2 or first["status"] is None:
        return ["the lookup-attention figure needs two sequences or more to pick from, and a live region"]
    problems = drawn(first, "as loaded")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", root)

    # keyboard: Enter, then Space, on a sequence's button
    before = first
    for target, key, name in ((1, Keys.ENTER, "Enter"), (first["sequences"] - 1, Keys.SPACE, "Space")):
        button = root.find_element("css selector", f'button[data-seq="{target}"]')
        driver.execute_script("arguments[0].focus()", button)
        driver.switch_to.active_element.send_keys(key)
        after = state()
        if after["seq"] != [target] or after["status"] == before["status"]:
            problems.append(f"lookup attention: {name} on sequence {target + 1}'s button did not pick it")
        elif after["bars"] == before["bars"]:
            problems.append(f"lookup attention: picking sequence {target + 1} did not change the bars")
        problems += drawn(after, f"sequence {target + 1}")
        before = after

    # keyboard: an arrow key on the block radios switches the block
    if first["blocks"] > 1:
        radio = root.find_element("css selector", f'input[type=radio][value="{before["block"]}"]')
        driver.execute_script("arguments[0].focus()", radio)
        driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
        after = state()
        if after["block"] == before["block"] or after["bars"] == before["bars"]:
            problems.append("lookup attention: the arrow key on the blocks did not switch block and redraw")
        problems += drawn(after, f"block {after['block'] + 1}")
    return problems


# data-figure kind -> the function that drives it
FIGURE_CHECKS = {"receptive-field": check_receptive_field, "lookup-attention": check_lookup_attention}


def chapter_buttons(page: Path, seen: dict[str, Any]) -> list[str]:
    """The launch buttons open this chapter's notebook; the download buttons exist."""
    problems = []
    notebook = page.with_suffix(".ipynb").as_posix()
    for name in LAUNCHERS:
        hrefs = [b["href"] for b in seen["launch"] if name.lower() in b["title"].lower()]
        if not hrefs:
            problems.append(f"no 'Launch on {name}' button")
        elif not any(notebook in href for href in hrefs):
            problems.append(f"the {name} button does not open {notebook}: {hrefs[0]}")
    if not any(href.endswith(".ipynb") for href in seen["download"]):
        problems.append("no .ipynb download button")
    if not seen["pdfButton"]:
        problems.append("no .pdf download (print) button")
    return problems


# ---------------------------------------------------------------- all pages


def run(build: Path, mathjax: Path, axe: Path, shots: Path, binary: str, driver_path: str) -> Totals:
    """Check every page of ``build``; raises SetupError when it cannot."""
    if not (build / "index.html").is_file():
        raise SetupError(f"no built book at {build} (no index.html): build it first (make book)")
    if not (mathjax / "tex-mml-chtml.js").is_file():
        raise SetupError(
            f"no local MathJax 3 at {mathjax} (tex-mml-chtml.js): make browser-deps installs it "
            "(npm install --prefix .venv/browser mathjax@3.2.2)"
        )
    if not axe.is_file():
        raise SetupError(
            f"no local axe-core at {axe}: make browser-deps installs it (npm install --prefix .venv/browser axe-core)"
        )
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    totals = Totals()
    with tempfile.TemporaryDirectory(prefix="convattn-browser-") as tmp:
        site = Path(tmp) / "html"
        prepare_site(build, mathjax, site, axe)
        (Path(tmp) / "profile").mkdir()
        with serve(site) as origin, chromium(binary, driver_path, Path(tmp) / "profile") as driver:
            driver.get_log("browser")  # start from empty logs
            driver.get_log("performance")
            for page in find_pages(site):
                totals.pages += 1
                target = redirect_target(site / page)
                if target is not None:
                    totals.redirects += 1
                    totals.links += 1
                    problem = link_problem(site, origin, f"{origin}/{(page.parent / target).as_posix()}")
                    problems = [f"redirect {problem}"] if problem else []
                else:
                    problems = check_page(driver, site, origin, page, shots, totals)
                totals.problems += [f"{page.as_posix()}: {p}" for p in problems]
    return totals


def main(argv: list[str] | None = None) -> int:
    """Command line: check the book, print the summary, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default="_build/html", type=Path, help="the built book")
    parser.add_argument(
        "--mathjax",
        type=Path,
        default=Path(".venv/browser/node_modules/mathjax/es5"),
        help="a local MathJax 3 'es5' folder (default: what make browser-deps installs)",
    )
    parser.add_argument(
        "--axe",
        type=Path,
        default=Path(".venv/browser/node_modules/axe-core/axe.min.js"),
        help="a local axe-core axe.min.js (default: what make browser-deps installs)",
    )
    parser.add_argument(
        "--screenshots", type=Path, help="where to save them (default: <html>/../screenshots)"
    )
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--chromedriver", default=CHROMEDRIVER)
    args = parser.parse_args(argv)
    shots = args.screenshots or args.html.parent / "screenshots"
    start = time.perf_counter()
    try:
        totals = run(args.html, args.mathjax, args.axe, shots, args.chromium, args.chromedriver)
    except SetupError as err:
        print(f"browser test cannot run: {err}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    print(
        f"browser test: {totals.pages} pages ({totals.chapters} from notebooks, {totals.redirects} redirects), "
        f"{totals.images} images, {totals.links} internal links, {totals.external_links} external links "
        f"(not followed), {totals.math} math elements, {totals.explorers} interactive connection matrices, "
        f"figures driven: {', '.join(f'{n} {k}' for k, n in sorted(totals.figures.items())) or 'none'}; "
        f"screenshots in {shots}; {seconds:.1f} s"
    )
    counts = ", ".join(f"{totals.axe[i][0]} {i} ({totals.axe[i][1]} elements)" for i in IMPACTS)
    print(f"accessibility (axe-core, violations summed over pages): {counts}")
    for rule, (impact, pages, elements) in sorted(
        totals.axe_rules.items(), key=lambda r: IMPACTS.index(r[1][0])
    ):
        print(f"  {impact:<9} {rule}: on {pages} pages, {elements} elements")
    if totals.problems:
        print(f"{len(totals.problems)} problems:", file=sys.stderr)
        for problem in totals.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("browser test: no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
