"""``govtext serve``: a local page for finding comparable cases, and a JSON API beside it.

For staff who do not write Python: paste a proposal (or open a text file), read the most similar
reported cases as cards, narrow them by date, place and theme, and share the address of what you
see (every search is a plain link: ``/?q=...&since=...``). The page is rendered on the server and
needs no build step, CDN or network; a few lines of script only read a chosen file into the box.

Needs the ``serve`` extra (``pip install govtext[serve]``: FastAPI and uvicorn). Bound to
127.0.0.1 by default. The index is opened once, read-only and memory-mapped, and shared by all
requests. Every document field is escaped; request sizes and ``k`` are bounded; unknown ids give
404 and malformed requests 400 with a message.
"""

# No "from __future__ import annotations" here: FastAPI reads the route signatures, whose body
# models are defined inside create_app, at definition time.

import html
import os
import re
import threading
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from .._common import THEME_NAMES
from .._version import __version__
from ..errors import GovtextError, ParameterError

__all__ = ["MAX_K", "MAX_QUERY_CHARS", "create_app", "run"]

MAX_QUERY_CHARS = 20_000
MAX_K = 50
MAX_BODY_BYTES = 256 * 1024


def _need_fastapi() -> Any:
    try:
        import fastapi
    except ImportError:
        raise ImportError("govtext serve needs FastAPI and uvicorn: pip install govtext[serve]") from None
    return fastapi


class _Service:
    """The index and model behind the app, and the search every route shares."""

    def __init__(self, index: Any, model: Any) -> None:
        self.index = index
        self.model = model
        self._lock = threading.Lock()
        self._themes: dict[int, tuple[str, ...]] = {}  # document row -> predicted themes (computed on demand)
        self._grouped = False

    def check(self, q: str | None, k: int, since: str | None, until: str | None) -> tuple[str, dict[str, Any]]:
        text = (q or "").strip()
        if not text:
            raise ParameterError("give the text of a proposal (q)")
        if len(text) > MAX_QUERY_CHARS:
            raise ParameterError(f"the proposal has {len(text):,} characters; at most {MAX_QUERY_CHARS:,} are accepted")
        if not 1 <= k <= MAX_K:
            raise ParameterError(f"k must be between 1 and {MAX_K}, got {k}")
        flt: dict[str, Any] = {}
        if since or until:
            flt["date"] = (since or None, until or None)
        return text, flt

    def similar(self, q: str | None, *, k: int = 10, since: str | None = None, until: str | None = None,
                place: str | None = None, theme: str | None = None, one_per_story: bool = False) -> list[Any]:
        text, flt = self.check(q, k, since, until)
        if place:
            flt["places"] = place.strip()
        if theme and theme not in self.model.classes_:
            raise ParameterError(f"unknown theme {theme!r}; themes are {[str(c) for c in self.model.classes_]}")
        if one_per_story:
            with self._lock:  # reprints are grouped once, on first use, before any query reads the groups
                if not self._grouped:
                    self.index.duplicates()
                    self._grouped = True
        if not theme:
            return self.index.query(text, k=k, filter=flt or None, exclude_duplicates=one_per_story)
        if self.index.texts_ is None:
            raise ParameterError("the theme filter needs the documents' texts, and this index was built without them "
                                 "(store_text=False)")
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

    def classify(self, q: str | None) -> Any:
        text, _ = self.check(q, 1, None, None)
        return self.model.explain(text)

    def document(self, doc_id: str) -> tuple[str | None, dict[str, Any]]:
        return self.index.document(doc_id)  # KeyError for an unknown id


def create_app(index: Any, model: Any = None) -> Any:
    """The FastAPI app over a :class:`~govtext.SimilarityIndex` (or a folder holding one) and a theme
    model (a folder, a fitted model, or ``None`` for the bundled one)."""
    fastapi = _need_fastapi()
    from fastapi import Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from pydantic import BaseModel, Field

    from ..runs._rows import theme_model
    from ..search.similarity import SimilarityIndex

    if isinstance(index, (str, os.PathLike)):
        index = SimilarityIndex.load(index, mmap=True)
    if not isinstance(index, SimilarityIndex):
        raise ParameterError(f"index must be a SimilarityIndex or its folder, got {type(index).__name__}")
    service = _Service(index, theme_model(model))
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
                        date=_str(meta.get("date")), metadata=meta, shared_terms=list(m.shared_terms), passage=m.passage)

    @app.middleware("http")
    async def bounded_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"error": f"request body over {MAX_BODY_BYTES:,} bytes"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(GovtextError)
    async def govtext_error(request: Request, exc: GovtextError) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return HTMLResponse(_page(service, request.query_params, error=str(exc)), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Any:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
                             for e in exc.errors())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": problems}, status_code=400)
        return HTMLResponse(_page(service, {}, error=problems), status_code=400)

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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request) -> Any:
        return HTMLResponse(_page(service, request.query_params))

    @app.get("/doc/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def doc_page(doc_id: str) -> Any:
        try:
            text, meta = service.document(doc_id)
        except KeyError:
            return HTMLResponse(_shell("未找到", f"<p class=error>没有编号为 {_e(doc_id)} 的文档。</p>"), status_code=404)
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_show(v))}</td></tr>" for k, v in meta.items())
        body = (f"<p><a href='javascript:history.back()'>← 返回结果</a></p><h2>{_e(meta.get('title') or doc_id)}</h2>"
                f"<table class=meta><tr><th>id</th><td>{_e(doc_id)}</td></tr>{rows}</table>"
                f"<div class=fulltext>{_paragraphs(text or '(此索引未保存正文)')}</div>")
        return HTMLResponse(_shell(str(meta.get("title") or doc_id), body))

    return app


def run(index: str | os.PathLike[str], model: str | os.PathLike[str] | None = None, *, host: str = "127.0.0.1",
        port: int = 8000) -> None:
    """Serve the page and the API until interrupted (uvicorn)."""
    _need_fastapi()
    try:
        import uvicorn
    except ImportError:
        raise ImportError("govtext serve needs uvicorn: pip install govtext[serve]") from None
    app = create_app(index, model)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# -- the page ------------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _show(value: Any) -> str:
    return "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in text.split("\n") if line.strip())


def _marked(passage: str | None, terms: list[str]) -> str:
    """The passage, escaped, with the shared terms in <mark> (longest term first where they overlap)."""
    if not passage:
        return ""
    if not terms:
        return _e(passage)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    out, last = [], 0
    for m in pattern.finditer(passage):
        out.append(_e(passage[last : m.start()]) + f"<mark>{_e(m.group())}</mark>")
        last = m.end()
    return "".join(out) + _e(passage[last:])


_CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#b22222;color:#fff;padding:.8em 1.5em}header h1{margin:0;font-size:1.3em}
main{max-width:60em;margin:0 auto;padding:1em 1.5em}
form.search{background:#fff;padding:1em;border-radius:6px;box-shadow:0 1px 3px #0002}
textarea{width:100%;min-height:7em;font-size:1em;box-sizing:border-box}
.filters{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0}.filters label{font-size:.9em}
button{background:#b22222;color:#fff;border:0;padding:.5em 1.4em;border-radius:4px;font-size:1em;cursor:pointer}
.card{background:#fff;border-radius:6px;padding:.8em 1em;margin:.8em 0;box-shadow:0 1px 3px #0002;list-style:none}
.card h3{margin:.1em 0 .3em;font-size:1.05em}.rank{color:#b22222;font-weight:bold;margin-right:.4em}
.score{float:right;color:#555;font-size:.9em}.meta{color:#555;font-size:.88em}.terms{font-size:.88em;color:#333}
mark{background:#ffe08a}.passage{margin:.4em 0;line-height:1.6}.error{color:#a00;font-weight:bold}
.themes{background:#fff;padding:.6em 1em;border-radius:6px;margin:.8em 0}.share{font-size:.85em;color:#555;word-break:break-all}
ol{padding:0}table.meta th{text-align:left;padding-right:1em;vertical-align:top}.fulltext p{line-height:1.7}
"""

# Reads a chosen .txt file into the text box; nothing is uploaded until the form is sent.
_JS = """
document.getElementById('file').addEventListener('change', function (ev) {
  var f = ev.target.files[0]; if (!f) return;
  var r = new FileReader(); r.onload = function () { document.getElementById('q').value = r.result; };
  r.readAsText(f, 'utf-8');
});
"""


def _shell(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=zh-CN><head><meta charset=utf-8><meta name=viewport "
            f"content='width=device-width,initial-scale=1'><title>{_e(title)} · govtext</title><style>{_CSS}</style>"
            f"</head><body><header><h1>govtext · 相似案例检索</h1></header><main>{body}</main></body></html>")


def _page(service: _Service, params: Any, error: str | None = None) -> str:
    get = (lambda name: params.get(name) or "") if params else (lambda name: "")
    q, since, until, place, theme = get("q"), get("since"), get("until"), get("place"), get("theme")
    k_raw, one = get("k") or "10", get("one_per_story")
    options = "".join(f"<option value='{_e(c)}'{' selected' if theme == str(c) else ''}>{_e(THEME_NAMES.get(str(c), c))}"
                      f"</option>" for c in service.model.classes_)
    form = (f"<form class=search method=get action='/'>"
            f"<label for=q>方案或提案全文 (粘贴, 或打开一个 .txt 文件)</label>"
            f"<textarea id=q name=q maxlength={MAX_QUERY_CHARS} placeholder='例如: 在老旧小区推行楼道微自治,党员带头认领楼道'>"
            f"{_e(q)}</textarea><input type=file id=file accept='.txt,text/plain'>"
            f"<div class=filters><label>起始日期 <input name=since value='{_e(since)}' placeholder='2022-01-01' size=11></label>"
            f"<label>截止日期 <input name=until value='{_e(until)}' placeholder='2024-12-31' size=11></label>"
            f"<label>地点 <input name=place value='{_e(place)}' placeholder='如 杭州市' size=10></label>"
            f"<label>主题 <select name=theme><option value=''>不限</option>{options}</select></label>"
            f"<label>条数 <input name=k type=number min=1 max={MAX_K} value='{_e(k_raw)}' style='width:4em'></label>"
            f"<label><input type=checkbox name=one_per_story value=1{' checked' if one else ''}> 转载只显示一条</label>"
            f"</div><button type=submit>查找相似案例</button></form><script>{_JS}</script>")
    parts = [form]
    if error:
        parts.append(f"<p class=error id=error>{_e(error)}</p>")
    elif q.strip():
        try:
            k = int(k_raw)
        except ValueError:
            raise ParameterError(f"k must be a whole number between 1 and {MAX_K}, got {k_raw!r}") from None
        found = service.similar(q, k=k, since=since or None, until=until or None, place=place or None,
                                theme=theme or None, one_per_story=bool(one))
        parts.append(_themes_block(service.classify(q)))
        link = "/?" + urlencode({key: value for key, value in (("q", q), ("since", since), ("until", until),
                                                               ("place", place), ("theme", theme), ("k", k_raw),
                                                               ("one_per_story", one)) if value})
        parts.append(f"<p class=share>本次检索的链接 (可分享): <a href='{_e(link)}'>{_e(link[:120])}"
                     f"{'…' if len(link) > 120 else ''}</a></p>")
        parts.append(_cards(found) if found else "<p id=none>没有找到相似的文档 (可放宽日期、地点或主题条件)。</p>")
    return _shell("相似案例", "".join(parts))


def _themes_block(explained: Any) -> str:
    items = []
    for ev in explained.labels:
        if not ev.predicted:
            continue
        quotes = "".join(f"<li>{_e(s)}</li>" for s in ev.sentences)
        items.append(f"<li><b>{_e(THEME_NAMES.get(ev.label, ev.label))}</b> (概率 {ev.probability:.2f})"
                     f"<ul>{quotes}</ul></li>")
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>未判定出任何主题。</p>"
    return f"<section class=themes id=themes><h2>本方案的主题及依据</h2>{body}</section>"


def _cards(found: list[Any]) -> str:
    cards = []
    for m in found:
        meta = m.metadata
        title = meta.get("title") or m.id
        places = _show(meta.get("places") or [])
        named = _show(meta.get("initiatives") or [])
        cards.append(
            f"<li class=card data-id='{_e(m.id)}'><span class=score>相似度 {m.score:.3f}</span>"
            f"<h3><span class=rank>{m.rank}</span><a href='/doc/{quote(m.id, safe='')}'>{_e(title)}</a></h3>"
            f"<div class=meta>{_e(meta.get('date') or '日期不详')}"
            f"{' · 地点: ' + _e(places) if places else ''}{' · 做法: ' + _e(named) if named else ''}</div>"
            f"<p class=passage>{_marked(m.passage, list(m.shared_terms))}</p>"
            f"<div class=terms>共有关键词: {_e('、'.join(m.shared_terms))}</div></li>")
    return f"<ol id=results>{''.join(cards)}</ol>"
