"""``govtext serve``: a local page for finding comparable cases, and a JSON API beside it.

For staff who do not write Python: paste a proposal (or open a text file), read the most similar
reported cases as cards, narrow them by date, place and theme, and share the address of what you
see (every search is a plain link: ``/?q=...&since=...``). The page speaks Chinese (labels, empty
states, errors; the JSON API answers in English) and is rendered on the server from the Jinja2
templates in ``templates/`` with autoescaping; it needs no build step, CDN or network, and a few lines
of script only read a chosen file into the box.

Needs the ``serve`` extra (``pip install govtext[serve]``: FastAPI and uvicorn). Bound to
127.0.0.1 by default. The index is opened once, read-only and memory-mapped, and shared by all
requests. Every document field is escaped; request sizes and ``k`` are bounded; unknown ids give
404 and malformed requests 400 with a message.
"""

# No "from __future__ import annotations" here: FastAPI reads the route signatures, whose body
# models are defined inside create_app, at definition time.

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from .._common import THEME_NAMES
from .._version import __version__
from ..errors import GovtextError, ParameterError
from ..search.ranking import query_practices, split_policy_basis

__all__ = ["MAX_K", "MAX_QUERY_CHARS", "create_app", "run"]

MAX_QUERY_CHARS = 20_000
MAX_K = 50
MAX_BODY_BYTES = 256 * 1024
MAX_LINK_CHARS = 6000  # a search link longer than this is not offered (servers refuse long request lines)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_FORM_FIELDS = ("q", "since", "until", "place", "theme", "k", "one_per_story")


class _BodyTooLarge(Exception):
    pass


def _host_name(header: str) -> str:
    """The host of a ``Host`` header, without port, lower case: ``[::1]:8000`` -> ``::1``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


class _Guard:
    """ASGI middleware in front of every route: answers 400 to a ``Host`` header that names no allowed
    host (DNS-rebinding protection) and 413 to a body over ``max_body`` bytes — by its
    ``Content-Length`` before reading, and for chunked bodies while reading, so an endless body is
    never buffered."""

    def __init__(self, app: Any, *, max_body: int, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.any_host = "*" in allowed_hosts
        self.hosts = frozenset(_host_name(h) for h in allowed_hosts)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = _host_name(headers.get("host", ""))
        if not self.any_host and host not in self.hosts:
            await _plain(send, 400, f"this govtext page answers only to {', '.join(sorted(self.hosts))}, not to "
                                    f"the host {host[:100]!r}; start it with --allow-host {host[:100] or 'NAME'} "
                                    "to allow that name")
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _plain(send, 413, f"request body over {self.max_body:,} bytes", json_body=True)
            return
        received = 0
        too_large = False
        started = False

        async def bounded_receive() -> Any:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if too_large:
                return  # the app's reply to an interrupted body is replaced by the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except _BodyTooLarge:
            pass
        if too_large and not started:
            await _plain(send, 413, f"request body over {self.max_body:,} bytes", json_body=True)


async def _plain(send: Any, status: int, text: str, json_body: bool = False) -> None:
    import json

    body = json.dumps({"error": text}, ensure_ascii=False).encode() if json_body else text.encode("utf-8")
    kind = b"application/json" if json_body else b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _form_fields(body: bytes) -> dict[str, str]:
    """The page's form fields from a URL-encoded POST body (unknown fields and repeats ignored)."""
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParameterError(f"cannot read the form: {exc}") from None
    return {name: fields[name][-1] for name in _FORM_FIELDS if name in fields}


def _share_link(params: Any) -> str:
    """The address of a search: ``/?q=...&since=...`` with the fields that are set."""
    get = (lambda name: params.get(name) or "") if params else (lambda name: "")
    return "/?" + urlencode({name: get(name) for name in _FORM_FIELDS if get(name)})


def _need_fastapi() -> Any:
    try:
        import fastapi
    except ImportError:
        raise ImportError("govtext serve needs FastAPI and uvicorn: pip install govtext[serve]") from None
    return fastapi


class _Problem(ParameterError):
    """A request the page cannot answer, said in English (the API) and in Chinese (``zh``, the page)."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


def _zh(exc: Exception) -> str:
    return getattr(exc, "zh", None) or f"请求无法完成：{exc}"


def _place_core(place: str) -> str:
    """The part of a place name that its districts' names start with too: 上海市 → 上海, 浙江省 → 浙江."""
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "省", "市", "地区", "盟"):
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            return place[: -len(suffix)]
    return place


def place_matches(meta: dict[str, Any], place: str) -> bool:
    """Whether a document's places include ``place`` or lie within it by name: 上海 and 上海市 find
    上海市, 上海市浦东新区 and 上海浦东; 杭州 finds 杭州市西湖区."""
    core = _place_core(place.strip())
    if not core:
        return True
    values: list[Any] = []
    for key in ("places", "place", "地点"):  # extracted places, and a place field the records had
        value = meta.get(key)
        values.extend(value if isinstance(value, list) else [value] if value else [])
    if len(core) < 2:  # one character is no place's part (上 would find 上虞 with 上海)
        return place.strip() in values
    return any(isinstance(v, str) and (v.startswith(core) or v == place) for v in values)


class _Service:
    """The index and model behind the app, and the search every route shares."""

    def __init__(self, index: Any, model: Any) -> None:
        self.index = index
        self.model = model
        self._lock = threading.Lock()
        self._themes: dict[int, tuple[str, ...]] = {}  # document row -> predicted themes (computed on demand)
        self._timelines: dict[tuple[str, bool], Any] = {}  # (practice, local_only) -> its Timeline
        self._grouped = False

    def check(self, q: str | None, k: int, since: str | None, until: str | None) -> tuple[str, dict[str, Any]]:
        from ..search._metadata import date_bound

        text = (q or "").strip()
        if not text:
            raise _Problem("give the text of a proposal (q)", "请先填写方案或提案的全文。")
        if len(text) > MAX_QUERY_CHARS:
            raise _Problem(f"the proposal has {len(text):,} characters; at most {MAX_QUERY_CHARS:,} are accepted",
                           f"方案全文有 {len(text):,} 个字符，最多可接受 {MAX_QUERY_CHARS:,} 个。")
        if not 1 <= k <= MAX_K:
            raise _Problem(f"k must be between 1 and {MAX_K}, got {k}", f"条数须在 1 到 {MAX_K} 之间，填的是 {k}。")
        flt: dict[str, Any] = {}
        if since or until:
            bounds = []
            for value, which, zh in ((since, "first", "起始"), (until, "last", "截止")):
                try:
                    bounds.append(date_bound(value or None, which))
                except ParameterError as exc:
                    raise _Problem(str(exc), f"无法识别{zh}日期“{value}”：请用 2025-06-12 这样的日期。") from None
            flt["date"] = (bounds[0], bounds[1])
        return text, flt

    def similar(self, q: str | None, *, k: int = 10, since: str | None = None, until: str | None = None,
                place: str | None = None, theme: str | None = None, one_per_story: bool = False) -> list[Any]:
        from ..search._metadata import matches_filter

        text, flt = self.check(q, k, since, until)
        if theme and theme not in self.model.classes_:
            raise _Problem(f"unknown theme {theme!r}; themes are {[str(c) for c in self.model.classes_]}",
                           f"未知的主题“{theme}”；可选的主题有 {'、'.join(THEME_NAMES.get(str(c), str(c)) for c in self.model.classes_)}。")
        if place and place.strip():
            dated = dict(flt)
            flt = lambda meta: matches_filter(meta, dated) and place_matches(meta, place)  # noqa: E731
        if one_per_story:
            with self._lock:  # reprints are grouped once, on first use, before any query reads the groups
                if not self._grouped:
                    self.index.duplicates()
                    self._grouped = True
        if not theme:
            return self.index.query(text, k=k, filter=flt or None, exclude_duplicates=one_per_story)
        if self.index.texts_ is None:
            raise _Problem("the theme filter needs the documents' texts, and this index was built without them "
                           "(store_text=False)", "按主题筛选需要文档正文，而这个索引建立时没有保存正文（store_text=False）。")
        # The theme of an indexed document is predicted when first needed and remembered; the theme
        # filter looks among the best max(5k, 50) matches.
        pool = self.index.query(text, k=max(5 * k, 50), filter=flt or None, exclude_duplicates=one_per_story)
        rows = [self.index.row_of_[m.id] for m in pool]
        self._predict_themes([r for r in rows if r not in self._themes])
        kept = [m for m, r in zip(pool, rows) if theme in self._themes.get(r, ())][:k]
        return [replace(m, rank=i + 1) for i, m in enumerate(kept)]

    def _predict_themes(self, rows: list[int]) -> None:
        texts = self.index.texts_
        if not rows or texts is None:
            return
        labels = self.model.predict([texts[r] for r in rows])
        names = [str(c) for c in self.model.classes_]
        with self._lock:
            for r, row in zip(rows, labels):
                self._themes[r] = tuple(n for n, flag in zip(names, row) if flag)

    def themes_of(self, ids: list[str]) -> dict[str, tuple[str, ...]]:
        """The predicted themes of indexed documents (by id); empty when the index holds no texts."""
        if self.index.texts_ is None:
            return {}
        rows = [self.index.row_of_[i] for i in ids if i in self.index.row_of_]
        self._predict_themes([r for r in rows if r not in self._themes])
        return {i: self._themes.get(self.index.row_of_[i], ()) for i in ids if i in self.index.row_of_}

    def timeline(self, name: str, *, local_only: bool = False) -> Any:
        """index.timeline(name), remembered: it reads every stored text."""
        key = (name.strip(), local_only)
        with self._lock:
            found = self._timelines.get(key)
        if found is None:
            found = self.index.timeline(name, local_only=local_only)
            with self._lock:
                self._timelines[key] = found
        return found

    def classify(self, q: str | None) -> Any:
        text, _ = self.check(q, 1, None, None)
        return self.model.explain(text)

    def document(self, doc_id: str) -> tuple[str | None, dict[str, Any]]:
        return self.index.document(doc_id)  # KeyError for an unknown id


def create_app(index: Any, model: Any = None, *, allowed_hosts: Sequence[str] | None = None) -> Any:
    """The FastAPI app over a :class:`~govtext.SimilarityIndex` (or a folder holding one) and a theme
    model (a folder, a fitted model, or ``None`` for the bundled one).

    Requests are answered only when their ``Host`` header names one of ``allowed_hosts`` (default:
    127.0.0.1, localhost and ::1; ``"*"`` allows any), so a web page elsewhere cannot read the index
    through DNS rebinding; request bodies over 256 KB are refused while they are read."""
    fastapi = _need_fastapi()
    from fastapi import Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
    from pydantic import BaseModel, Field

    from ..runs._rows import theme_model
    from ..search.similarity import SimilarityIndex

    from ..persist import load
    from ..search.sharded import ShardedIndex

    if isinstance(index, (str, os.PathLike)):
        index = load(index, mmap=True)
    if not isinstance(index, (SimilarityIndex, ShardedIndex)):
        raise ParameterError(f"index must be a SimilarityIndex, a ShardedIndex or a folder holding one, "
                             f"got {type(index).__name__}")
    if isinstance(index, ShardedIndex):
        index.shards_  # the page reads texts and metadata row by row: the shards must be in this process
    service = _Service(index, theme_model(model))
    templates = _templates()

    def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Any:
        return templates.TemplateResponse(request, name, context, status_code=status_code)
    app = fastapi.FastAPI(title="govtext", version=__version__,
                          description="Find comparable cases for a proposal; classify a text's governance themes.")
    app.state.service = service

    class MatchOut(BaseModel):
        rank: int
        id: str
        score: float
        title: str | None = None
        date: str | None = None
        metadata: dict[str, Any] = Field(default_factory=dict)
        shared_terms: list[str] = Field(default_factory=list)
        passage: str | None = None
        why: str | None = None  # how the precedent ranking scored it
        policy_basis: bool = False  # a central document, meeting or instruction (listed after the precedents)

    class SimilarOut(BaseModel):
        query: str
        k: int
        matches: list[MatchOut]

    class SimilarIn(BaseModel):
        text: str = Field(max_length=MAX_QUERY_CHARS)
        k: int = Field(10, ge=1, le=MAX_K)
        since: str | None = None
        until: str | None = None
        place: str | None = None
        theme: str | None = None
        one_per_story: bool = False

    class TextIn(BaseModel):
        text: str = Field(max_length=MAX_QUERY_CHARS)

    class DocOut(BaseModel):
        id: str
        text: str | None
        metadata: dict[str, Any]

    def match_out(m: Any) -> MatchOut:
        meta = dict(m.metadata)
        return MatchOut(rank=m.rank, id=m.id, score=round(m.score, 6), title=_str(meta.get("title")),
                        date=_str(meta.get("date")), metadata=meta, shared_terms=list(m.shared_terms), passage=m.passage,
                        why=None if m.why is None else str(m.why), policy_basis=m.why is not None and m.why.policy_basis)

    hosts = LOOPBACK_HOSTS if allowed_hosts is None else tuple(allowed_hosts)
    app.add_middleware(_Guard, max_body=MAX_BODY_BYTES, allowed_hosts=hosts)

    @app.exception_handler(GovtextError)
    async def govtext_error(request: Request, exc: GovtextError) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return render(request, "search.html", _page_context(service, request.query_params, error=_zh(exc)), 400)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Any:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
                             for e in exc.errors())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": problems}, status_code=400)
        return render(request, "search.html", _page_context(service, {}, error=f"请求有误：{problems}"), 400)

    @app.get("/api/similar", response_model=SimilarOut, summary="The documents most similar to a proposal")
    def api_similar(q: str = Query(..., max_length=MAX_QUERY_CHARS), k: int = Query(10, ge=1, le=MAX_K),
                    since: str | None = None, until: str | None = None, place: str | None = None,
                    theme: str | None = None, one_per_story: bool = False) -> SimilarOut:
        found = service.similar(q, k=k, since=since, until=until, place=place, theme=theme, one_per_story=one_per_story)
        return SimilarOut(query=q, k=k, matches=[match_out(m) for m in found])

    @app.post("/api/similar", response_model=SimilarOut, summary="The same, with the proposal in a JSON body")
    def api_similar_post(body: SimilarIn) -> SimilarOut:
        found = service.similar(body.text, k=body.k, since=body.since, until=body.until, place=body.place,
                                theme=body.theme, one_per_story=body.one_per_story)
        return SimilarOut(query=body.text, k=body.k, matches=[match_out(m) for m in found])

    @app.get("/api/classify", summary="A text's themes: probability, decision, terms and evidence sentences")
    def api_classify(q: str = Query(..., max_length=MAX_QUERY_CHARS)) -> dict[str, Any]:
        return service.classify(q).to_dict()

    @app.post("/api/classify", summary="The same, with the text in a JSON body")
    def api_classify_post(body: TextIn) -> dict[str, Any]:
        return service.classify(body.text).to_dict()

    @app.get("/api/doc/{doc_id:path}", response_model=DocOut, summary="One indexed document: cleaned text and metadata")
    def api_doc(doc_id: str) -> Any:
        try:
            text, meta = service.document(doc_id)
        except KeyError:
            return JSONResponse({"error": f"no document with id {doc_id!r}"}, status_code=404)
        return DocOut(id=doc_id, text=text, metadata=dict(meta))

    @app.get("/api/timeline", summary="The places that report a practice, with first and latest dates and counts")
    def api_timeline(name: str = Query(..., max_length=40), local_only: bool = False) -> dict[str, Any]:
        return asdict(service.timeline(name, local_only=local_only))

    @app.get("/timeline", response_class=HTMLResponse, include_in_schema=False)
    def timeline_page(request: Request, name: str = Query(..., max_length=40)) -> Any:
        tl = service.timeline(name)
        return render(request, "timeline.html", {"page_title": f"“{tl.name}”的扩散", "tl": tl,
                                                 "places": tl.places[:_TIMELINE_ROWS], "rows": _TIMELINE_ROWS})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request) -> Any:
        return render(request, "search.html", _page_context(service, request.query_params))

    @app.post("/", response_class=HTMLResponse, include_in_schema=False)
    async def page_post(request: Request) -> Any:
        # The form posts (a proposal of 20,000 characters is 180 KB URL-encoded, too long for a URL);
        # a search whose link is short enough is redirected to that link, so that it can be shared.
        from starlette.concurrency import run_in_threadpool

        params = _form_fields(await request.body())
        link = _share_link(params)
        if len(link) <= MAX_LINK_CHARS:
            return RedirectResponse(link, status_code=303)
        try:
            context = await run_in_threadpool(_page_context, service, params)
        except GovtextError as exc:
            return render(request, "search.html", _page_context(service, params, error=_zh(exc)), 400)
        return render(request, "search.html", context)

    @app.get("/doc/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def doc_page(request: Request, doc_id: str, terms: str | None = None) -> Any:
        try:
            text, meta = service.document(doc_id)
        except KeyError:
            return render(request, "doc.html", {"page_title": "未找到", "doc_id": doc_id, "missing": True}, 404)
        return render(request, "doc.html", _doc_context(doc_id, text, dict(meta), terms))

    return app


def run(index: str | os.PathLike[str], model: str | os.PathLike[str] | None = None, *, host: str = "127.0.0.1",
        port: int = 8000, ready: Any = None, allow_hosts: Sequence[str] = ()) -> None:
    """Serve the page and the API until interrupted (uvicorn). ``ready()`` (optional) is called once
    the index and model are loaded and the address is free, just before serving starts. Requests
    must name ``host`` (and, when it is a loopback address, 127.0.0.1, localhost or ::1) or one of
    ``allow_hosts`` in their ``Host`` header."""
    _need_fastapi()
    try:
        import uvicorn
    except ImportError:
        raise ImportError("govtext serve needs uvicorn: pip install govtext[serve]") from None
    names = [host, *(LOOPBACK_HOSTS if _host_name(host) in LOOPBACK_HOSTS else ()), *allow_hosts]
    app = create_app(index, model, allowed_hosts=names)
    _check_address(host, port)
    if ready is not None:
        ready()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _check_address(host: str, port: int) -> None:
    """Fail with one clear line, before saying anything about serving, when the address is taken."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ParameterError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ParameterError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server there? "
                                 "choose another --port)") from None


# -- the page ------------------------------------------------------------------------------------------
# Rendered from the Jinja2 templates in templates/ (autoescaped: every document field is text).

TEMPLATES = Path(__file__).resolve().parent / "templates"

# The page's names for the metadata fields an index holds (others are shown under their own names).
FIELD_NAMES = {"title": "标题", "date": "日期", "source": "来源", "author": "作者", "places": "地点",
               "initiatives": "做法", "url": "网址", "description": "摘要", "categories": "栏目", "tags": "标签",
               "id": "编号"}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _show(value: Any) -> str:
    return "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _marked(text: str | None, terms: Any) -> Any:
    """``text``, escaped, with the shared ``terms`` in <mark> (longest term first where they overlap)."""
    from markupsafe import Markup, escape

    if not text:
        return Markup("")
    terms = [t for t in (terms or []) if t]
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]) + Markup("<mark>") + escape(m.group()) + Markup("</mark>"))
        last = m.end()
    return Markup("").join(out) + escape(text[last:])


def _templates() -> Any:
    from fastapi.templating import Jinja2Templates

    templates = Jinja2Templates(directory=str(TEMPLATES))  # autoescape on (Starlette's default for templates)
    templates.env.autoescape = True
    templates.env.filters["mark"] = _marked
    return templates


def _form(params: Any) -> dict[str, str]:
    get = (lambda name: params.get(name) or "") if params else (lambda name: "")
    return {"q": get("q"), "since": get("since"), "until": get("until"), "place": get("place"), "theme": get("theme"),
            "k": get("k") or "10", "one_per_story": get("one_per_story")}


def _page_context(service: _Service, params: Any, error: str | None = None) -> dict[str, Any]:
    form = _form(params)
    ctx: dict[str, Any] = {"page_title": "相似案例", "form": form, "max_chars": MAX_QUERY_CHARS, "max_k": MAX_K,
                           "themes": [(str(c), THEME_NAMES.get(str(c), str(c))) for c in service.model.classes_],
                           "error": error, "searched": False}
    if error or not form["q"].strip():
        return ctx
    try:
        k = int(form["k"])
    except ValueError:
        raise _Problem(f"k must be a whole number between 1 and {MAX_K}, got {form['k']!r}",
                       f"条数须为 1 到 {MAX_K} 之间的整数，填的是“{form['k']}”。") from None
    found = service.similar(form["q"], k=k, since=form["since"] or None, until=form["until"] or None,
                            place=form["place"] or None, theme=form["theme"] or None,
                            one_per_story=bool(form["one_per_story"]))
    themes = service.themes_of([m.id for m in found])
    explained = service.classify(form["q"])
    ctx["searched"] = True
    ctx["proposal_themes"] = [{"name": THEME_NAMES.get(ev.label, ev.label), "probability": ev.probability,
                               "sentences": list(ev.sentences)} for ev in explained.labels if ev.predicted]
    link = _share_link(form)
    ctx["link"] = link if len(link) <= MAX_LINK_CHARS else None  # too long to share as an address
    cases, basis = split_policy_basis(found)
    ctx["matches"] = [_card(m, themes.get(m.id)) for m in cases]
    ctx["policy_basis"] = [_card(m, themes.get(m.id)) for m in basis]
    ctx["practices"] = ([(name, "/timeline?" + urlencode({"name": name}))
                         for name in query_practices(form["q"])[:_TIMELINE_PRACTICES]]
                        if service.index.texts_ is not None else [])
    return ctx


_TIMELINE_PRACTICES = 3  # timeline links under the results, for the practices the proposal names
_TIMELINE_ROWS = 50  # places shown on a timeline page (the API gives all)
_LEVEL_ZH = {3: "村/社区/街道/乡镇", 2: "县/区", 1: "市", 0: ""}
_KIND_ZH = {"local": "地方实践", "other": "未点名地方", "roundup": "综述/快讯", "central": "中央文件或会议（政策依据）"}


def _why_zh(why: Any) -> str | None:
    """The precedent ranking's reasons for one result, in Chinese, for the page."""
    if why is None:
        return None
    parts = [f"余弦 {why.cosine:.3f}（原第 {why.cosine_rank} 名）"]
    if why.lexical is not None:
        parts.append(f"BM25 {why.lexical:.2f}")
    if why.passage != why.cosine:
        parts.append(f"最佳段落 {why.passage:.3f}")
    if why.chars is not None and why.length_factor != 1.0:
        parts.append(f"{why.chars:,} 字 ×{why.length_factor:.2f}")
    if why.place:
        parts.append(f"地点 {why.place}（{_LEVEL_ZH[why.level]}）×{why.place_factor:.2f}")
    if why.headline:
        parts.append("地方报道标题" + (f" ×{why.headline_factor:.2f}" if why.headline_factor != 1.0 else ""))
    parts.append(_KIND_ZH.get(why.kind, why.kind) + (f" ×{why.kind_factor:.2f}" if why.kind_factor != 1.0 else ""))
    if why.practices:
        parts.append(f"点名做法 {'、'.join(why.practices)} ×{why.practice_factor:.2f}")
    return " · ".join(parts)


def _card(m: Any, themes: tuple[str, ...] | None) -> dict[str, Any]:
    meta = m.metadata
    terms = list(m.shared_terms)
    href = f"/doc/{quote(m.id, safe='')}" + (f"?{urlencode({'terms': ','.join(terms)})}" if terms else "")
    return {"id": m.id, "rank": m.rank, "score": m.score, "title": meta.get("title") or m.id, "date": meta.get("date"),
            "places": _show(meta.get("places") or []), "initiatives": _show(meta.get("initiatives") or []),
            "passage": m.passage, "shared_terms": terms, "href": href, "why": _why_zh(m.why),
            "themes": None if themes is None else [THEME_NAMES.get(t, t) for t in themes]}


def _doc_context(doc_id: str, text: str | None, meta: dict[str, Any], terms: str | None) -> dict[str, Any]:
    shown = [t for t in (terms or "").split(",") if t.strip()][:50]
    fields = [(FIELD_NAMES.get(k, k), _show(v)) for k, v in meta.items() if v not in (None, "", [])]
    return {"page_title": str(meta.get("title") or doc_id), "doc_id": doc_id, "title": meta.get("title") or doc_id,
            "fields": fields, "terms": shown, "paragraphs": [ln for ln in (text or "").split("\n") if ln.strip()],
            "missing": False}
