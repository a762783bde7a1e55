"""govtext serve: the JSON API (FastAPI's test client) and the page in a real headless Chromium."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from urllib.parse import urlencode

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

import govtext  # noqa: E402
from govtext.apps.serve import MAX_K, create_app  # noqa: E402

from .conftest import need_os_package, read_xwlb  # noqa: E402

HOSTILE_TITLE = '<script>window.hacked=1</script><img src=x onerror="window.hacked=2">社区议事'
HOSTILE_TEXT = "幸福里社区推行楼道微自治,党员带头认领楼道<b>加粗</b>,居民议事会商量楼道杂物清理。"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    items = [it for it in read_xwlb(300, step=97) if len(it["text"].strip()) > 50]
    texts = [it["text"] for it in items] + [HOSTILE_TEXT]
    ids = [it["id"] for it in items] + ["hostile/1"]
    meta = [{"title": it.get("title"), "date": it.get("date")} for it in items] + [{"title": HOSTILE_TITLE,
                                                                                    "date": "2024-03-01"}]
    folder = tmp_path_factory.mktemp("serve") / "idx"
    govtext.SimilarityIndex().fit(texts, ids=ids, metadata=meta).save(folder)
    return folder, texts, ids


@pytest.fixture(scope="module")
def client(index_dir):
    return TestClient(create_app(index_dir[0]))


def test_api_similar_gives_the_index_results_with_the_dataclass_fields(client, index_dir):
    index = govtext.load(index_dir[0])
    q = "社区党员志愿者开展志愿服务活动"
    expected = index.query(q, k=5)
    got = client.get("/api/similar", params={"q": q, "k": 5})
    assert got.status_code == 200, got.text
    matches = got.json()["matches"]
    assert [m["id"] for m in matches] == [m.id for m in expected]
    assert set(matches[0]) >= {"rank", "id", "score", "metadata", "shared_terms", "passage"}
    assert matches[0]["score"] == pytest.approx(expected[0].score, abs=1e-6)
    posted = client.post("/api/similar", json={"text": q, "k": 5}).json()["matches"]
    assert [m["id"] for m in posted] == [m["id"] for m in matches]


def test_filters_by_date_place_and_theme(client, index_dir):
    q = "社区党员志愿者开展志愿服务活动"
    recent = client.get("/api/similar", params={"q": q, "k": 10, "since": "2018年1月1日"}).json()["matches"]
    assert recent and all(m["date"] >= "2018-01-01" for m in recent)
    themed = client.get("/api/similar", params={"q": q, "k": 5, "theme": "civility"}).json()["matches"]
    model = govtext.load()
    docs = {i: t for t, i in zip(index_dir[1], index_dir[2])}
    assert themed and all("civility" in labels for labels in model.predict_labels([docs[m["id"]] for m in themed]))
    assert [m["rank"] for m in themed] == list(range(1, len(themed) + 1))


def test_theme_filter_on_an_index_without_texts_says_why():
    lean = govtext.SimilarityIndex(store_text=False).fit(["社区党支部召开组织生活会", "志愿者开展文明劝导"])
    r = TestClient(create_app(lean)).get("/api/similar", params={"q": "党支部", "theme": "party_building"})
    assert r.status_code == 400 and "store_text" in r.json()["error"]


def test_bad_requests_are_400_with_a_message_and_unknown_ids_404(client):
    for params, says in (({"q": "社区", "k": MAX_K + 1}, "k"), ({"q": "社区", "k": 0}, "k"),
                         ({"q": "社区", "since": "yesterday"}, "cannot read"), ({"q": "   "}, "proposal"),
                         ({"q": "社区", "theme": "sports"}, "unknown theme")):
        r = client.get("/api/similar", params=params)
        assert r.status_code == 400, params
        assert says in r.json()["error"]
    too_long = client.post("/api/similar", json={"text": "社" * 20_001})
    assert too_long.status_code == 400 and "text" in too_long.json()["error"]
    assert client.post("/api/similar", content=b"x" * 300_000, headers={"content-type": "application/json"}).status_code == 413
    assert client.get("/api/doc/no-such-id").status_code == 404
    assert client.get("/doc/no-such-id").status_code == 404
    page = client.get("/", params={"q": "社区", "since": "yesterday"})
    assert page.status_code == 400 and "cannot read" in page.text


def test_doc_classify_and_openapi(client):
    doc = client.get("/api/doc/hostile/1")  # ids may hold slashes (URLs often do)
    assert doc.status_code == 200 and doc.json()["text"] == HOSTILE_TEXT
    themes = client.post("/api/classify", json={"text": "社区党支部召开组织生活会,党员亮身份作表率。"}).json()
    assert themes["party_building"]["predicted"] and themes["party_building"]["sentences"]
    spec = client.get("/openapi.json").json()
    assert {"/api/similar", "/api/classify", "/api/doc/{doc_id}"} <= set(spec["paths"])


def test_page_escapes_every_document_field(client):
    page = client.get("/", params={"q": "楼道微自治 党员认领楼道 居民议事会"})
    assert page.status_code == 200
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in page.text
    assert "<script>window.hacked" not in page.text and "<img src=x" not in page.text
    assert "&lt;b&gt;加粗&lt;/b&gt;" in client.get("/doc/hostile%2F1").text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(index_dir):
    uvicorn = pytest.importorskip("uvicorn")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(index_dir[0]), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    need_os_package("Chromium", "sudo apt-get install chromium")
    raise AssertionError("unreachable")


def _browser(*args: str) -> str:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--virtual-time-budget=5000", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.slow
def test_browser_deep_link_shows_the_expected_first_result_and_hostile_titles_as_text(live_server, index_dir, tmp_path):
    from html.parser import HTMLParser

    q = "楼道微自治 党员认领楼道 居民议事会"
    expected = govtext.load(index_dir[0]).query(q, k=5)[0].id
    dom = _browser("--dump-dom", f"{live_server}/?{urlencode({'q': q, 'k': 5})}")

    class Cards(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str] = []
            self.images: list[dict] = []
            self.scripts = 0

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "li" and "card" in (attrs.get("class") or ""):
                self.ids.append(attrs.get("data-id"))
            if tag == "img":
                self.images.append(attrs)
            if tag == "script":
                self.scripts += 1

    cards = Cards()
    cards.feed(dom)
    assert cards.ids and cards.ids[0] == expected
    assert "hostile/1" in cards.ids
    assert not cards.images and cards.scripts == 1  # only the page's own file-reading script
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in dom  # the title, shown as text
    shot = tmp_path / "page.png"
    _browser(f"--screenshot={shot}", "--window-size=1100,1300", f"{live_server}/?{urlencode({'q': q, 'k': 3})}")
    assert shot.stat().st_size > 10_000
