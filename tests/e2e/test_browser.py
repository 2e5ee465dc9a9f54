"""The built book, opened page by page in a real browser (headless Chromium).

Run after the book is built (``python3 dev.py test`` does both). For every page
in ``_toc.yml`` it checks: HTTP 200; MathJax (served from the book itself, so it
works offline) typeset every equation, with no ``mjx-merror`` and no raw TeX
left; every image loaded, inside a captioned figure and with alt text of its
own; every internal link (and its #anchor) resolves; no
request left this machine; no JavaScript error except the stock
``THEBE_JS_URL`` one that Jupyter Book 1.x pages always log. A screenshot of
one chapter is saved to ``_build/screenshots/`` as a build artefact.

At a 1400 px wide window it also checks: no display equation needs a horizontal
scrollbar; no page shows a path of the machine that built it; a chapter's
title, equations, figures and exercises carry its own number (3., (3.1),
Fig. 3.1, Exercise 3.1); a lab page has Colab and Binder buttons for its
notebook; and the search page finds a word of the book.
"""

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_BUILD", ROOT / "_build")) / "html"  # _build/html by default
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KNOWN_JS_ERRORS = ("THEBE_JS_URL",)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def toc_pages():
    """Every file of _toc.yml, as its HTML path relative to the build root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc.get("parts", toc.get("chapters", [])))
    return [f + ".html" for f in files]


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book at {HTML}: run `python3 dev.py book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        reason = "Chromium not found (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the browser test")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _internal_links(page, base):
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return sorted({h for h in hrefs if h.startswith(base)})


def _check_link(url, cache={}):  # noqa: B006 (deliberate per-run memo of fetched pages)
    target, _, frag = url.partition("#")
    if target not in cache:
        try:
            with urllib.request.urlopen(target) as r:
                cache[target] = (r.status, r.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            cache[target] = (e.code, "")
    status, body = cache[target]
    if status != 200:
        return f"{url}: HTTP {status}"
    if frag and target.endswith(".html"):
        frag = urllib.parse.unquote(frag)
        if not re.search(rf'id=["\']{re.escape(frag)}["\']', body):
            return f"{url}: no element with id {frag!r}"
    return None


# Every image in a page's text must sit in a <figure> with a non-empty <figcaption>, and carry alt
# text of its own (Sphinx falls back to the file name, which tells a screen reader nothing).
_UNCAPTIONED_JS = """els => els.flatMap(e => {
    const fig = e.closest('figure'), cap = fig && fig.querySelector('figcaption');
    const alt = (e.getAttribute('alt') || '').trim(), file = e.src.split('/').pop();
    const problems = [];
    if (!cap || !cap.textContent.trim()) problems.push('no caption');
    if (!alt || file.startsWith(alt) || alt.endsWith('.png')) problems.push('no alt text');
    return problems.length ? [file + ': ' + problems.join(', ')] : [];
})"""


@pytest.mark.parametrize("path", toc_pages())
def test_page(path, server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors, outside = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"HTTP {r.status} for {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((server, "data:", "blob:", "about:")) else None)

    response = page.goto(server + path, wait_until="load")
    status = response and response.status
    assert status == 200, f"{path}: HTTP {status}"

    n_math = page.eval_on_selector_all(".math", "els => els.length")
    if n_math:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
        untypeset = page.eval_on_selector_all(
            ".math", "els => els.filter(e => !e.querySelector('mjx-container'))"
                     ".map(e => e.textContent.slice(0, 60))")
        assert not untypeset, (
            f"{path}: {len(untypeset)} of {n_math} equations not typeset: {untypeset[:3]}")
        merrors = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.textContent)")
        assert not merrors, f"{path}: MathJax errors: {merrors[:3]}"
        wide = page.eval_on_selector_all(
            'mjx-container[display="true"]',
            "els => els.filter(m => { const box = m.closest('div.math') || m.parentElement;"
            " return m.scrollWidth > m.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1 })"
            ".map(m => (m.closest('div.math') || m).id || m.textContent.slice(0, 40))")
        assert not wide, f"{path}: display math wider than the page at 1400 px (split it " \
            f"with aligned): {wide}"

    shown = page.content() + page.inner_text("body")
    machine = [p for p in (str(ROOT), "/site-packages/", "/dist-packages/") if p in shown]
    assert not machine, f"{path}: the page shows paths of the build machine: {machine}"
    _check_numbering(page, path)
    _check_launch_buttons(page, path)

    broken_imgs = page.eval_on_selector_all(
        "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)")
    assert not broken_imgs, f"{path}: images that did not load: {broken_imgs}"

    uncaptioned = page.eval_on_selector_all("article img", _UNCAPTIONED_JS)
    assert not uncaptioned, f"{path}: figures without a caption or alt text: {uncaptioned[:3]}"

    bad_links = [msg for url in _internal_links(page, server) if (msg := _check_link(url))]
    assert not bad_links, f"{path}: broken internal links: {bad_links[:5]}"

    js = [e for e in errors if not any(k in e for k in KNOWN_JS_ERRORS)]
    assert not js, f"{path}: JavaScript errors: {js[:3]}"
    assert not outside, f"{path}: requests left the machine (the book must work offline): " \
        f"{outside[:3]}"

    if Path(path).stem.startswith("ch03"):  # one chapter page, kept as a build artefact
        shots = HTML.parent / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / (Path(path).stem + ".png")), full_page=False)
    page.close()


def _check_numbering(page, path):
    """A chapter's title, equations, figures and exercises carry the chapter's own number."""
    m = re.match(r"book/ch(\d\d)_", path)
    if not m:
        return
    n = int(m.group(1))
    title = page.eval_on_selector("h1 .section-number", "e => e.textContent.trim()")
    assert title == f"{n}.", f"{path}: the title is numbered {title!r}, not {n}."
    for what, selector, prefix in [
            ("equation", "span.eqno", f"({n}."),
            ("figure", "figcaption .caption-number", f"Fig. {n}."),
            ("exercise", "div.exercise .caption-number", f"Exercise {n}.")]:
        numbers = page.eval_on_selector_all(
            selector, "els => els.map(e => e.firstChild ? e.firstChild.textContent.trim() : '')")
        wrong = [x for x in numbers if not x.startswith(prefix)]
        assert not wrong, f"{path}: {what} numbers not of chapter {n}: {wrong[:3]}"
        if what != "figure":  # every chapter has numbered equations and exercises
            assert numbers, f"{path}: no numbered {what}"
        if numbers:
            assert numbers[0].startswith(prefix + "1"), f"{path}: the first {what} is {numbers[0]}"


def _check_launch_buttons(page, path):
    """A lab page opens its own notebook on Colab and on Binder."""
    m = re.match(r"book/labs/(lab\d\d_\w+)\.html$", path)
    if not m:
        return
    notebook = f"labs/{m.group(1)}.ipynb"
    hrefs = page.eval_on_selector_all(".lab-launch a", "els => els.map(e => e.href)")
    colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/github/")]
    binder = [h for h in hrefs if h.startswith("https://mybinder.org/v2/gh/")]
    assert colab and colab[0].endswith("/" + notebook), f"{path}: no Colab button: {hrefs}"
    assert binder and binder[0].endswith("lab/tree/" + notebook), f"{path}: no Binder: {hrefs}"
    assert page.eval_on_selector_all("a.download", "els => els.length"), f"{path}: no download"


def test_search_finds_a_word_of_the_book(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(server + "search.html?q=backpropagation", wait_until="load")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results li').length > 0 || "
        "/did not match|no.*match/i.test(document.querySelector('#search-results')?.textContent"
        " || '')", timeout=20000)
    hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    assert any("ch04_bptt" in h for h in hits), f"search for backpropagation found {hits[:5]}"
    page.close()
