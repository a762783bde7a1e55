"""Shared fixtures. Real text comes from ../shared (read-only, never copied into the repo);
tests that need it go through ``_need``: they skip when it is absent, and fail under CI."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
XWLB = SHARED / "corpora" / "xwlb" / "items.jsonl.gz"
EXAMPLES = REPO / "examples"


# Hypothesis: under CI (CI set, as .ci/run sets it) the same examples every run, so that CI cannot
# fail at random; locally random examples, which keep finding new cases.
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", parent=settings.get_profile("default"), derandomize=False)


def hypothesis_profile(environ: dict[str, str]) -> str:
    return "ci" if environ.get("CI") else "dev"


settings.load_profile(hypothesis_profile(dict(os.environ)))


def _need(path: Path) -> Path:
    """``path`` in the shared data beside the repository (../shared). Where it is missing the test
    skips, saying so; under CI (``CI`` set) it fails instead, so that CI never passes by skipping
    the tests on real text (the bit-for-bit model check among them)."""
    if not path.exists():
        message = f"needs {path} (the shared data beside the repo)"
        if os.environ.get("CI"):
            pytest.fail(message + "; under CI it must be present")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    """The five real scraped pages, keyed by their number ("000" .. "004")."""
    folder = _need(SEEDS)
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


def read_xwlb(n: int, step: int = 20) -> list[dict]:
    """Every ``step``-th item of the xwlb corpus, ``n`` of them (skips when the corpus is absent)."""
    _need(XWLB)
    items = []
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, 0, n * step, step):
            items.append(json.loads(line))
    return items


@pytest.fixture(scope="session")
def xwlb_sample() -> list[str]:
    return [f"{it['title']}\n{it['text']}" for it in read_xwlb(1500)]


@pytest.fixture(scope="session")
def examples() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))}


def edit_manifest(folder: Path, **changes) -> None:
    """Rewrite fields of a saved object's govtext.json (to simulate other versions or types)."""
    path = Path(folder) / "govtext.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def need_os_package(what: str, install: str) -> None:
    """Skip a test that needs an OS package (a Chinese font, Chromium) where it is missing, saying
    what to install; under CI (``CI`` set, as ``.ci/run`` runs, which installs them) fail instead,
    so that CI never passes by skipping them."""
    import os

    message = f"needs {what}: {install}"
    if os.environ.get("CI"):
        pytest.fail(message + " (.ci/run installs it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def cjk_font() -> str:
    """The Chinese font govtext.plot uses (skips, or fails under CI, when there is none)."""
    pytest.importorskip("matplotlib")
    import govtext.plot

    try:
        return govtext.plot.use_cjk_font()
    except govtext.plot.MissingFontError:
        need_os_package("a font with Chinese characters", "sudo apt-get install fonts-noto-cjk")
        raise AssertionError("unreachable")


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now (for a live test server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
