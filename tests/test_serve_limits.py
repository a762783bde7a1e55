"""govtext serve at its limits (issue 20, item 12): bodies bounded while they are read (chunked too),
long proposals posted from the form, and only the bound host names answered (DNS rebinding)."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

import govtext  # noqa: E402
from govtext.apps.cli import main  # noqa: E402
from govtext.apps.serve import MAX_BODY_BYTES, MAX_LINK_CHARS, MAX_QUERY_CHARS, create_app  # noqa: E402

from .conftest import free_port  # noqa: E402

DOCS = ["社区推行楼道微自治,党员带头认领楼道,居民议事会商量楼道杂物清理。",
        "街道开展垃圾分类宣传活动,志愿者入户讲解分类知识。",
        "居民议事会协商加装电梯,业委会和物业参与,党支部牵头。",
        "村里修订村规民约,倡导移风易俗,红白理事会监督。"]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-limits") / "idx"
    govtext.SimilarityIndex().fit(DOCS, ids=["a", "b", "c", "d"]).save(folder)
    return folder


@pytest.fixture(scope="module")
def app(index_dir):
    return create_app(index_dir)


def _client(app, host="127.0.0.1"):
    return TestClient(app, base_url=f"http://{host}", follow_redirects=False)


# -- Host header -------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000"])
def test_loopback_host_names_are_answered(app, host):
    assert _client(app).get("/api/similar", params={"q": "党员认领楼道"}, headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""])
def test_other_host_names_are_refused(app, host):
    """A page on evil.example whose name is rebound to 127.0.0.1 sends Host: evil.example."""
    r = _client(app).get("/api/similar", params={"q": "党员认领楼道"}, headers={"host": host})
    assert r.status_code == 400 and "--allow-host" in r.text
    assert _client(app).get("/", headers={"host": host}).status_code == 400


def test_more_host_names_can_be_allowed(index_dir):
    app = create_app(index_dir, allowed_hosts=["govtext.lan", "127.0.0.1"])
    assert _client(app, "govtext.lan:8000").get("/api/similar", params={"q": "党员认领楼道"}).status_code == 200
    assert _client(app, "localhost").get("/").status_code == 400
    assert _client(create_app(index_dir, allowed_hosts=["*"]), "anything.example").get("/").status_code == 200


def test_cli_has_the_allow_host_option(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--allow-host" in capsys.readouterr().out


# -- bodies ------------------------------------------------------------------------------------------

def test_declared_oversized_body_is_refused(app):
    r = _client(app).post("/api/similar", content=b"x" * (MAX_BODY_BYTES + 1),
                          headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_chunked_oversized_body_is_refused(app):
    """A body without Content-Length used to pass the check and be read whole."""
    def chunks():
        yield b'{"text": "'
        for _ in range(40):
            yield "楼道".encode() * 5000  # 30 KB a chunk, 1.2 MB in all
        yield b'"}'

    r = _client(app).post("/api/similar", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and f"{MAX_BODY_BYTES:,} bytes" in r.json()["error"]


def test_a_body_under_the_limit_still_works(app):
    r = _client(app).post("/api/similar", json={"text": "党员认领楼道 " * 100, "k": 2})
    assert r.status_code == 200 and r.json()["matches"][0]["id"] == "a"


@pytest.fixture(scope="module")
def live(app):
    uvicorn = pytest.importorskip("uvicorn")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_an_endless_chunked_body_is_cut_off_while_it_is_read(live):
    """Over a real socket: the server answers 413 after about 256 KB, not after the whole body."""
    sock = socket.create_connection(("127.0.0.1", live), timeout=30)
    sock.sendall(b"POST /api/similar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    sent = 0
    reply = b""
    sock.settimeout(0.2)
    try:
        while sent < 64 * 2**20:  # would be 64 MB
            try:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            except OSError:
                break  # the server closed the connection
            try:
                reply += sock.recv(4096)
                if reply:
                    break
            except socket.timeout:
                pass
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in reply:
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
        except OSError:
            pass
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < 8 * 2**20


# -- long proposals from the form ------------------------------------------------------------------

def test_the_form_posts(app):
    assert 'method="post"' in _client(app).get("/").text


def test_a_short_search_from_the_form_becomes_a_shareable_link(app):
    r = _client(app).post("/", data={"q": "党员认领楼道", "k": "3", "since": ""})
    assert r.status_code == 303
    link = r.headers["location"]
    assert urlsplit(link).path == "/" and parse_qs(urlsplit(link).query) == {"q": ["党员认领楼道"], "k": ["3"]}
    page = _client(app).get(link)
    assert page.status_code == 200 and "data-id='a'" in page.text.replace('"', "'")


@pytest.mark.parametrize("n_chars", [15_000, 20_000])
def test_a_long_proposal_from_the_form_is_answered(app, n_chars):
    proposal = ("在老旧小区推行楼道微自治,党员带头认领楼道,居民议事会商量杂物清理。" * 1000)[:n_chars]
    assert len(proposal) <= MAX_QUERY_CHARS
    r = _client(app).post("/", data={"q": proposal, "k": "3"})
    assert r.status_code == 200, r.text[:300]
    assert "data-id='a'" in r.text.replace('"', "'")
    assert "无法生成可分享的链接" in r.text  # no link of 180 KB offered
    assert len(f"/?q={proposal}".encode()) > MAX_LINK_CHARS
