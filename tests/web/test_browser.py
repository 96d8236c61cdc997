"""The pages in a real browser (Playwright driving Debian's Chromium): search -> record page -> graph
view -> simulate -> a small trial with live progress -> its report. Fails on any JavaScript console
error or page error and on any request that leaves 127.0.0.1.

Set EXORESIST_SCREENSHOTS=docs/figures to keep the screenshots (docs/figures/web_*.png)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, LiveServer, chromium_available, make_settings, require

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, list[str]]]:
    require(chromium_available(), "Chromium or the playwright package", "apt-get install chromium (and make install)")
    from playwright.sync_api import sync_playwright

    data = tmp_path_factory.mktemp("browser")
    problems: list[str] = []
    with LiveServer(make_settings(data)) as server, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 900},
        )
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def outside(req: Any) -> None:
            if not (req.url.startswith(server.url + "/") or req.url.startswith(("data:", "blob:"))):
                problems.append(f"request outside 127.0.0.1: {req.url}")

        page.on("request", outside)
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        yield page, server.url, problems
        ctx.close()


def _wait_js(page: Any, expression: str, timeout_s: float = 30.0) -> None:
    """Poll ``expression`` with page.evaluate (wait_for_function would need 'unsafe-eval', which the CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("EXORESIST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"web_{name}.png"), full_page=True)


def test_search_record_graph_simulate_trial_report(browser_page: tuple[Any, str, list[str]]) -> None:
    page, base, problems = browser_page
    # search from the home page
    page.goto(base + "/")
    _shot(page, "home")
    page.fill(".big-search input[name=q]", "TIM-3 NK")
    page.click(".big-search button")
    page.wait_for_url("**/records?q=*")
    assert "1</b> record(s)" in page.inner_html("#results")
    _shot(page, "search")
    # a facet narrows the list through htmx, the address keeps the filters
    page.select_option("#f-grade", "A")
    page.wait_for_url("**grade=A**")
    page.click("#results a[href='/records/mech:circuhrf1-nk-tim3']")
    # the record page
    page.wait_for_url("**/records/mech:circuhrf1-nk-tim3")
    assert page.inner_text(".permalink").endswith("/records/mech:circuhrf1-nk-tim3")
    assert "Evidence grade A: shown in HCC both in vitro and in vivo" in page.inner_text("main")
    assert page.inner_text("#citation-bibtex").startswith("@misc{exoresist-mech-circuhrf1-nk-tim3,")
    _shot(page, "record")
    # the graph view of its routes
    page.click("a.button:has-text('routes from circUHRF1')")
    page.wait_for_url("**/graph?view=explain**")
    _wait_js(page, "document.getElementById('graph-status').textContent.includes('edges in this view')")
    page.wait_for_selector("#graph-tables table")
    n_nodes = page.evaluate("window.exoGraph.nodes().length")
    assert n_nodes >= 4
    # click the first signed edge on the canvas: its evidence appears in the panel
    box = page.locator("#cy").bounding_box()
    mid = page.evaluate(
        "(() => { const e = window.exoGraph.edges('[relation = \"sponges\"]')[0]; return e.renderedMidpoint(); })()"
    )
    page.mouse.click(box["x"] + mid["x"], box["y"] + mid["y"])
    page.wait_for_selector("#panel .ev-card")
    assert "sponges" in page.inner_text("#panel h3")
    assert "Evidence grade" in page.inner_text("#panel")
    # a node with more neighbours: fetch them
    node = page.evaluate(
        "(() => { const p = window.exoGraph.nodes('[hidden > 0]')[0].renderedPosition(); return {x: p.x, y: p.y}; })()"
    )
    page.mouse.click(box["x"] + node["x"], box["y"] + node["y"])
    page.click("#show-neighbours")
    _wait_js(page, f"window.exoGraph.nodes().length > {n_nodes}")
    _shot(page, "graph")
    # simulate two scenarios side by side
    page.click("header nav a[href='/simulate']")
    page.fill("input[name=a_therapy]", "sorafenib")
    page.fill("input[name=a_days]", "180")
    page.select_option("select[name=b_context]", "patient")
    page.fill("input[name=b_therapy]", "sorafenib")
    page.fill("input[name=b_intervention]", "secretion-blockade")
    page.fill("input[name=b_days]", "180")
    page.click(".sim-form button[type=submit]")
    page.wait_for_selector("#plot-cells .main-svg")
    page.wait_for_selector("#plot-drugs .main-svg")
    assert page.locator("#plot-diameter .scatterlayer .trace").count() == 2  # scenario A and B
    assert "secretion-blockade" in page.inner_text("table.compare")
    _shot(page, "simulate")
    # a small trial: watch its progress, then open the report
    page.click("header nav a[href='/trials']")
    page.fill("textarea[name=arm]", "sorafenib\nplacebo")
    page.fill("input[name=patients]", "10")
    page.fill("input[name=months]", "6")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/progress") else None)
    page.click(".trial-form button[type=submit]")
    page.wait_for_url("**/trials/*")
    assert "patients per arm" in page.inner_text("#progress-text")
    page.wait_for_selector("#job-state.done", timeout=240_000)
    assert polls, "the job page did not poll its progress"
    assert "10</b> of 10 patients per arm" in page.inner_html("#progress-text")
    assert page.locator(".progress-box table.data").count() >= 2
    _shot(page, "trial")
    page.click("#open-report")
    page.wait_for_url("**/report.html")
    assert "Kaplan" in page.inner_text("body")
    _shot(page, "report")
    assert problems == []


def test_api_docs_load_from_this_server(browser_page: tuple[Any, str, list[str]]) -> None:
    page, base, problems = browser_page
    page.goto(base + "/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".opblock").count() > 20
    _shot(page, "docs")
    assert problems == []
