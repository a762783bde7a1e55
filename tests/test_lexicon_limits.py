"""Lexicons and KWIC on hostile input (issue 20, item 15): long terms, lexicon files in other
encodings, terms with no visible character, huge windows, and large lexicons matched by an
Aho–Corasick automaton with exactly the counts of the plain trie."""

from __future__ import annotations

import random

import pytest

from govtext import GovtextError, LexiconCounter, ParameterError, kwic
from govtext.apps.cli import main
from govtext.features.lexicon import MAX_WINDOW, _Matcher, read_lexicon


def _reference(words, text):
    """Leftmost-longest matches by brute force: at each position the longest word starting there."""
    out, i = [], 0
    by_length = sorted(set(words), key=len, reverse=True)
    while i < len(text):
        hit = next((w for w in by_length if text.startswith(w, i)), None)
        if hit is None:
            i += 1
        else:
            out.append(hit)
            i += len(hit)
    return out


@pytest.mark.parametrize("length", [500, 600, 5000])
def test_a_very_long_term_is_counted(length):
    term = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(length))
    counter = LexiconCounter({"long": [term, term[:3]]}, normalize=None).fit()
    text = "前言" + term + "中间" + term[:3] + "结尾" + term
    assert counter.transform([text]).tolist() == [[3.0]]


def test_a_gbk_lexicon_file_is_read(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_bytes("# 文明创建\ncivility\t文明城市\ncivility\t文明楼道\nexclude\t生态文明\n".encode("gbk"))
    lexicon, exclusions = read_lexicon(path)
    assert lexicon == {"civility": ["文明城市", "文明楼道"]} and exclusions == ["生态文明"]


def test_a_latin1_lexicon_file_is_a_govtext_error_or_read(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_bytes("café\tcrème brûlée\n".encode("latin-1"))
    try:
        read_lexicon(path)
    except GovtextError as exc:
        assert str(path) in str(exc)


@pytest.mark.parametrize("term", ["\u200b", "\u200d\u200b", "\ufeff", " \u200b "])
def test_terms_with_no_visible_character_are_refused(term):
    with pytest.raises(ParameterError, match="visible"):
        kwic(["社区文明楼道"], term)
    with pytest.raises(ParameterError, match="visible"):
        LexiconCounter({"civility": ["文明", term]}).fit()
    with pytest.raises(ParameterError, match="visible"):
        LexiconCounter({"civility": ["文明"]}, exclusions=[term]).fit()


def test_a_lexicon_file_with_an_invisible_term_names_the_line(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("civility\t文明\ncivility\t\u200b\n", encoding="utf-8")
    with pytest.raises(GovtextError, match="line 2"):
        read_lexicon(path)


def test_kwic_window_is_bounded(tmp_path, capsys):
    with pytest.raises(ParameterError, match="window"):
        kwic(["社区文明楼道"], "文明", window=10**9)
    assert len(kwic(["社区文明楼道"], "文明", window=MAX_WINDOW)) == 1
    src = tmp_path / "a.txt"
    src.write_text("社区创建文明楼道。", encoding="utf-8")
    assert main(["kwic", "文明", str(src), "--window", "1000000000"]) == 2
    assert "--window" in capsys.readouterr().err
    assert main(["kwic", "\u200b", str(src)]) == 2


@pytest.mark.parametrize("seed", range(6))
def test_trie_matches_are_leftmost_longest(seed):
    rng = random.Random(seed)
    alphabet = "文明城市楼道生态社区"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 40))]
    for _ in range(20):
        text = "".join(rng.choice(alphabet + "，。") for _ in range(rng.randint(0, 200)))
        assert _Matcher(words, backend="trie").find(text) == _reference(words, text)


@pytest.mark.parametrize("seed", range(6))
def test_automaton_gives_the_same_matches_as_the_trie(seed):
    pytest.importorskip("ahocorasick_rs")
    rng = random.Random(seed)
    alphabet = "文明城市楼道生态社区"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 300))]
    trie, automaton = _Matcher(words, backend="trie"), _Matcher(words, backend="ahocorasick_rs")
    for _ in range(30):
        text = "".join(rng.choice(alphabet + "，。😀\ud800") for _ in range(rng.randint(0, 300)))
        assert automaton.find(text) == trie.find(text)


def test_large_lexicon_counts_are_identical_with_either_backend(monkeypatch):
    """1,000 categories x 20 terms over 50 texts: the automaton and the trie count the same."""
    pytest.importorskip("ahocorasick_rs")
    rng = random.Random(1)
    chars = [chr(0x4E00 + i) for i in range(300)]
    lexicon = {f"c{j}": ["".join(rng.choice(chars) for _ in range(rng.randint(2, 4))) for _ in range(20)]
               for j in range(1000)}
    texts = ["".join(rng.choice(chars) for _ in range(2000)) for _ in range(50)]
    fast = LexiconCounter(lexicon, normalize=None).fit()
    assert fast._matcher.backend == "ahocorasick_rs"
    monkeypatch.setattr("govtext.features.lexicon._have_ahocorasick", lambda: False)
    plain = LexiconCounter(lexicon, normalize=None).fit()
    assert plain._matcher.backend == "trie"
    a, b = fast.transform(texts), plain.transform(texts)
    assert a.sum() > 100 and (a == b).all()
