"""govtext serve: the JSON API (FastAPI's test client) and the page in a real headless Chromium."""

from __future__ import annotations

import shutil
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

from .conftest import free_port, need_os_package, read_xwlb  # noqa: E402

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
    return TestClient(create_app(index_dir[0]), base_url="http://127.0.0.1")


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
    r = TestClient(create_app(lean), base_url="http://127.0.0.1").get("/api/similar", params={"q": "党支部", "theme": "party_building"})
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
    assert page.status_code == 400 and "无法识别起始日期“yesterday”" in page.text
    page = client.get("/", params={"q": "社区", "k": 500})
    assert page.status_code == 400 and "条数须在 1 到 50 之间" in page.text and "must be" not in page.text


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


def _serving(index):
    """Serve ``index`` (a folder or an index) on a free local port in a thread; yields its URL."""
    uvicorn = pytest.importorskip("uvicorn")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(index_dir):
    yield from _serving(index_dir[0])


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
    assert "排序依据" in dom  # the precedent ranking says why each result ranked where it did
    assert "hostile/1" in cards.ids
    assert not cards.images and cards.scripts == 1  # only the page's own file-reading script
    assert 'type="date"' in dom and "card-themes" in dom  # real date pickers; each match's themes
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in dom  # the title, shown as text
    shot = tmp_path / "page.png"
    _browser(f"--screenshot={shot}", "--window-size=1100,1300", f"{live_server}/?{urlencode({'q': q, 'k': 3})}")
    assert shot.stat().st_size > 10_000


# -- the page in Chinese, from templates; places by prefix; themes on cards; the document page -----------

PLACE_DOCS = [
    ("sh-pd", "浦东新区某街道推行楼道微自治，党员带头认领楼道，居民议事会商量楼道杂物清理。", ["上海市浦东新区"], "2024-05-01"),
    ("sh", "上海市推广楼道微自治经验，居民议事会协商楼道杂物清理和加装电梯。", ["上海市"], "2023-03-02"),
    ("hz", "杭州市西湖区社区推行楼道微自治，居民议事会商量楼道杂物清理。", ["杭州市西湖区"], "2024-01-15"),
    ("sx", "上虞区社区开展楼道微自治，志愿者清理楼道杂物。", ["上虞区"], "2022-08-08"),
]


@pytest.fixture(scope="module")
def place_client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("places") / "idx"
    govtext.SimilarityIndex().fit([t for _, t, _, _ in PLACE_DOCS], ids=[i for i, _, _, _ in PLACE_DOCS],
                                  metadata=[{"title": f"案例{i}", "places": p, "date": d, "来源说明": "自拟"}
                                            for i, _, p, d in PLACE_DOCS]).save(folder)
    return TestClient(create_app(folder), base_url="http://127.0.0.1")


def test_place_filter_matches_a_prefix_or_the_province_city_part(place_client):
    def ids(place):
        r = place_client.get("/api/similar", params={"q": "楼道微自治 居民议事会 楼道杂物", "k": 10, "place": place})
        assert r.status_code == 200, r.text
        return sorted(m["id"] for m in r.json()["matches"])

    assert ids("上海") == ["sh", "sh-pd"]          # 上海 finds 上海市 and its district
    assert ids("上海市") == ["sh", "sh-pd"]        # so does the full name
    assert ids("上海市浦东新区") == ["sh-pd"]
    assert ids("杭州") == ["hz"] and ids("浙江") == []
    assert "sx" not in ids("上")                   # one character is not a place's part: 上虞 is not 上海


def test_page_is_chinese_with_date_pickers_and_themes_on_cards(place_client):
    empty = place_client.get("/")
    assert empty.status_code == 200
    assert 'type="date" name="since" value=""' in empty.text and 'type="date" name="until" value=""' in empty.text
    assert "placeholder=\"20" not in empty.text  # no grey dates that look like filters already set
    page = place_client.get("/", params={"q": "楼道微自治 党员认领楼道 居民议事会", "k": 3})
    assert page.status_code == 200
    assert page.text.count('class="card"') == 3 and "card-themes" in page.text
    assert "共建共治共享" in page.text  # a match's theme, in Chinese
    none = place_client.get("/", params={"q": "楼道微自治", "place": "广州"})
    assert "没有找到相似的文档" in none.text
    bad = place_client.get("/", params={"q": "楼道", "theme": "sports"})
    assert bad.status_code == 400 and "未知的主题“sports”" in bad.text
    blank = place_client.get("/", params={"q": "   "})
    assert "请先填写方案或提案的全文" in blank.text or "id=\"results\"" not in blank.text


def test_document_page_names_fields_in_chinese_and_marks_shared_terms(place_client):
    page = place_client.get("/", params={"q": "楼道微自治 居民议事会", "k": 1})
    import re

    href = re.search(r'<a href="(/doc/[^"]+)">', page.text).group(1).replace("&amp;", "&")
    doc = place_client.get(href)
    assert doc.status_code == 200
    for name in ("编号", "标题", "日期", "地点", "共有关键词", "来源说明"):
        assert f"<th>{name}</th>" in doc.text
    assert "<mark>" in doc.text and "<th>title</th>" not in doc.text
    missing = place_client.get("/doc/nothing-here")
    assert missing.status_code == 404 and "没有编号为 nothing-here 的文档" in missing.text


def test_templates_autoescape_and_marks_stay_escaped():
    from govtext.apps.serve import _marked, _templates

    assert str(_marked("<b>楼道</b>议事", ["楼道"])) == "&lt;b&gt;<mark>楼道</mark>&lt;/b&gt;议事"
    env = _templates().env
    assert env.from_string("{{ x }}").render(x="<script>") == "&lt;script&gt;"


POLICY_DOCS = [("南京市栖霞区仙林街道推行楼道微自治,每个单元推选楼道长,居民商量制定楼道公约,社区给予指导和经费。" * 2,
                {"title": "仙林街道: 楼道里的自治", "date": "2020-06-10"}),
               ("国务院常务会议部署推进城乡社区治理,要求推行楼道微自治和居民议事。",
                {"title": "国务院常务会议部署社区治理", "date": "2021-03-01"}),
               ("无锡市梁溪区瞻江街道推行楼道微自治,居民推选楼道长。", {"title": "瞻江街道楼道微自治", "date": "2019-03-01"})]
POLICY_QUERY = "建议在老旧小区推行“楼道微自治”,推选楼道长,制定楼道公约"


def _policy_index():
    return govtext.SimilarityIndex().fit([t for t, _ in POLICY_DOCS], ids=["xl", "gov", "zj"],
                                         metadata=[m for _, m in POLICY_DOCS])


def test_page_shows_why_policy_basis_apart_and_the_timeline():
    client = TestClient(create_app(_policy_index()), base_url="http://127.0.0.1")
    q = POLICY_QUERY
    api = client.get("/api/similar", params={"q": q, "k": 3}).json()["matches"]
    assert [m["id"] for m in api][-1] == "gov" and api[-1]["policy_basis"] and not api[0]["policy_basis"]
    assert all(m["why"].startswith("cosine ") for m in api)
    page = client.get("/", params={"q": q, "k": 3}).text
    results, rest = page.split('<ol id="results">', 1)[1].split("</ol>", 1)
    assert 'data-id="xl"' in results and 'data-id="gov"' not in results and "排序依据" in results
    assert 'id="policy-basis"' in rest and 'data-id="gov"' in rest.split('id="policy-basis"', 1)[1]
    assert 'id="timeline"' in page and "/timeline?name=%E6%A5%BC%E9%81%93%E5%BE%AE%E8%87%AA%E6%B2%BB" in page
    tl_page = client.get("/timeline", params={"name": "楼道微自治"}).text
    assert "“楼道微自治”：3 篇报道，最早 2019-03-01" in tl_page and "瞻江街道" in tl_page
    tl = client.get("/api/timeline", params={"name": "楼道微自治", "local_only": True}).json()
    assert tl["documents"] == 3 and tl["places"][0]["place"] in ("梁溪区", "瞻江街道")
    assert client.get("/api/timeline", params={"name": " "}).status_code == 400


@pytest.fixture(scope="module")
def policy_server():
    yield from _serving(_policy_index())


@pytest.mark.slow
def test_browser_shows_why_the_policy_basis_apart_and_the_timeline(policy_server):
    dom = _browser("--dump-dom", f"{policy_server}/?{urlencode({'q': POLICY_QUERY, 'k': 3})}")
    results, rest = dom.split('<ol id="results">', 1)[1].split("</ol>", 1)
    assert 'data-id="xl"' in results and 'data-id="gov"' not in results and "排序依据" in results
    assert 'id="policy-basis"' in rest and 'data-id="gov"' in rest.split('id="policy-basis"', 1)[1]
    assert 'id="timeline"' in dom and "/timeline?name=%E6%A5%BC%E9%81%93%E5%BE%AE%E8%87%AA%E6%B2%BB" in dom
    page = _browser("--dump-dom", f"{policy_server}/timeline?{urlencode({'name': '楼道微自治'})}")
    assert "“楼道微自治”：3 篇报道，最早 2019-03-01" in page and "瞻江街道" in page and "仙林街道" in page
