"""Bad and extreme input through every stage: random bytes, huge documents."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govtext import Tokenizer, Vectorizer, clean_article, normalize
from govtext.text.io import DecodingError, decode_bytes

_TOK = Tokenizer()
_VEC = Vectorizer().fit(["社区召开居民议事会", "街道开展志愿服务", "党建引领基层治理"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_any_stage(data):
    for encoding in ("utf-8", "gb18030", "big5hkscs"):
        text = data.decode(encoding, errors="replace")
        norm = normalize(text)
        assert normalize(norm) == norm
        art = clean_article(text)
        assert isinstance(art.body, str)
        tokens = _TOK(text)
        assert all(isinstance(t, str) and t for t in tokens)
        assert _VEC.transform([text, art.text]).shape[0] == 2
    try:
        decoded, _ = decode_bytes(data)
        assert isinstance(decoded, str)
    except DecodingError:
        pass


@pytest.mark.slow
def test_ten_megabyte_document():
    para = ("萬融社區堅持黨建引領(lǐng),推行鄰長制。居民议事会每月召开,协商解决急难愁盼问题;"
            "志愿者清理楼道杂物,倡导文明行为!\n")
    n = 10_000_000 // len(para.encode("utf-8"))
    # distinct lines (numbered), so that no stage can shortcut on repetition
    text = "".join(f"第{i}段:{para}" for i in range(n))
    assert len(text.encode("utf-8")) > 9_900_000
    art = clean_article(text)
    assert len(art.paragraphs) == n  # the whole document is one article
    tokens = _TOK(text)
    assert tokens[:5] == ["段", "万融", "社区", "坚持", "党建引领"]  # 第 is a stopword
    assert _VEC.transform([text]).shape == (1, len(_VEC.vocabulary_))
