"""Row makers: what each batch command turns a chunk of records into (one row per record, in
order), and the theme model a command resolves. Row makers are picklable, so worker processes and
Dask workers receive them once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from ._storage import Column
from ..errors import GovtextError, InputError, ParameterError
from ..text.io import Record, record_text

__all__ = ["ClassifyRows", "CleanRows", "CountRows", "KeywordRows", "PerRecord", "RowMaker", "RECORD_ERRORS", "TokenizeRows", "document_text",
           "format_error", "theme_model"]


def format_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# What a record can cause, and so what becomes that record's error row: govtext's own errors (no text
# left after cleaning, a text too long, …), text no codec can write, and a record too big for memory.
# Anything else (TypeError, KeyError, AttributeError, …) is a bug in govtext: it stops the run, and
# the command line prints the traceback and exits with status 3.
RECORD_ERRORS: tuple[type[BaseException], ...] = (GovtextError, UnicodeError, MemoryError)

# --------------------------------------------------------------------------- row makers


class RowMaker:
    """Turns a chunk of records into one row (dict) per record, in order. Picklable."""

    columns: tuple[Column, ...] = ()

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes the rows; a resumed run must match it."""
        raise NotImplementedError

    def rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def __call__(self, items: Sequence[Record | Callable[[], Record]]) -> list[dict[str, Any]]:
        # Items may be unread records (thunks from the readers): reading and parsing them here
        # moves that work into the worker processes.
        return self.rows([it if isinstance(it, Record) else it() for it in items])


def document_text(rec: Record, clean: bool) -> str:
    """The record's text to analyse — its title and body (:func:`~govtext.text.io.record_text`), cleaned
    unless ``clean`` is false; EmptyTextError when there is none (becomes an error row)."""
    from ..text.clean import usable_text

    return usable_text(record_text(rec), clean=clean)[0]


class ClassifyRows(RowMaker):
    """Rows of theme probabilities (``p_<label>``), predicted ``labels`` and, optionally, evidence.

    ``title`` and ``date`` come from the record's fields, or — when ``clean`` — from the page.
    ``digits`` rounds probabilities (``None`` keeps full precision).
    """

    def __init__(self, model: Any, *, clean: bool = True, explain: bool = False, digits: int | None = 4) -> None:
        from ..themes._linear import ThemeArithmetic

        if not isinstance(model, ThemeArithmetic):
            raise ParameterError(f"model must be a ThemeClassifier, got {type(model).__name__}")
        if not hasattr(model, "coef_"):
            raise InputError("the ThemeClassifier is not fitted yet; call fit() or load a saved one")
        self.model = model
        self.clean = clean
        self.explain = explain
        self.digits = digits
        cols = [Column("id"), Column("title"), Column("date")]
        cols += [Column(f"p_{lab}", "float") for lab in model.classes_]
        cols.append(Column("labels", "list"))
        if explain:
            cols.append(Column("evidence", "json"))
        cols.append(Column("error"))
        self.columns = tuple(cols)

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": "classify", "clean": self.clean, "explain": self.explain, "digits": self.digits,
                "labels": [str(c) for c in self.model.classes_]}

    def _prob(self, p: float) -> float:
        return round(float(p), self.digits) if self.digits is not None else float(p)

    def rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        from ..text.clean import usable_text
        from ..themes.genre import infer_genre

        model = self.model
        rows: list[dict[str, Any] | None] = [None] * len(records)
        texts: list[str] = []
        genres: list[int] = []
        where: list[int] = []
        for i, rec in enumerate(records):
            if rec.error is not None:
                rows[i] = {"id": rec.id, "error": rec.error}
                continue
            try:
                text, art = usable_text(record_text(rec), clean=self.clean)
                row: dict[str, Any] = {"id": rec.id}
                row["title"] = _reported_title(rec, art, clean=self.clean)
                row["date"] = rec.metadata.get("date") or (art.date if art else None) or None
                rows[i] = {k: v for k, v in row.items() if v is not None}
                texts.append(text)
                genres.append(infer_genre([record_text(rec)])[0])  # the form of the text as it came, before cleaning
                where.append(i)
            except RECORD_ERRORS as exc:  # one bad record must not stop the batch
                rows[i] = {"id": rec.id, "error": format_error(exc)}
        if texts:
            # Article.text is normalised already, so the classifier need not normalise it again.
            # Cleaning can drop a byline that tells the genre, so each text's genre is read before it.
            def predict(batch: list[str], genre: list[int]) -> Any:
                return model.predict_proba(batch, normalized=self.clean, genre=genre)

            try:
                proba = predict(texts, genres)
            except RECORD_ERRORS:  # find the record at fault, classify the others
                proba = None
            for k, i in enumerate(where):
                row = rows[i]  # type: ignore[assignment]
                try:
                    p = proba[k] if proba is not None else predict([texts[k]], [genres[k]])[0]
                    cut = model.genre_thresholds_[genres[k]]
                    row.update({f"p_{lab}": self._prob(v) for lab, v in zip(model.classes_, p)})
                    row["labels"] = [str(lab) for lab, v, t in zip(model.classes_, p, cut) if v >= t]
                    if self.explain:
                        ex = model.explain(texts[k], top=5, max_sentences=2, genre=genres[k])
                        row["evidence"] = {e.label: {"terms": [t.term for t in e.terms], "sentences": list(e.sentences)}
                                           for e in ex.labels if e.predicted}
                except RECORD_ERRORS as exc:
                    rows[i] = {"id": records[i].id, "error": format_error(exc)}
        return rows  # type: ignore[return-value]


class PerRecord(RowMaker):
    """A row maker that handles records one at a time."""

    def one(self, rec: Record) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        out = []
        for rec in records:
            if rec.error is not None:
                out.append({"id": rec.id, "error": rec.error})
                continue
            try:
                out.append(self.one(rec))
            except RECORD_ERRORS as exc:  # reported in the row; a bug is raised
                out.append({"id": rec.id, "error": format_error(exc)})
        return out


class CleanRows(PerRecord):
    """Rows of the article found in each page: title, date, source, author, body and dropped lines."""

    def __init__(self, *, show_removed: bool = False) -> None:
        self.show_removed = show_removed
        cols = [Column(n) for n in ("id", "title", "date", "source", "author", "body")]
        cols.append(Column("removed", "json") if show_removed else Column("removed_lines", "int"))
        cols.append(Column("error"))
        self.columns = tuple(cols)

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": "clean", "show_removed": self.show_removed}

    def one(self, rec: Record) -> dict[str, Any]:
        from ..text.clean import usable_text

        _, art = usable_text(rec.text, clean=True)  # the title field is reported, not cleaned into the body
        assert art is not None
        meta = rec.metadata
        row: dict[str, Any] = {"id": rec.id, "title": _reported_title(rec, art, clean=True),
                               "date": meta.get("date") or art.date, "source": meta.get("source") or art.source,
                               "author": art.author, "body": art.body}
        if self.show_removed:
            row["removed"] = [[r.reason, r.text] for r in art.removed]
        else:
            row["removed_lines"] = len(art.removed)
        return row


class TokenizeRows(PerRecord):
    """Rows of tokens (space-separated in CSV)."""

    columns = (Column("id"), Column("tokens", "list", " "), Column("error"))

    def __init__(self, tokenizer: Any, *, clean: bool = True) -> None:
        self.tokenizer = tokenizer
        self.clean = clean

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": "tokenize", "clean": self.clean, "tokenizer": self.tokenizer.to_config()}

    def one(self, rec: Record) -> dict[str, Any]:
        return {"id": rec.id, "tokens": self.tokenizer(document_text(rec, self.clean))}


class KeywordRows(PerRecord):
    """Rows of the ``k`` top TF-IDF keywords with their scores."""

    columns = (Column("id"), Column("keywords", "json"), Column("error"))

    def __init__(self, vectorizer: Any, *, k: int = 10, clean: bool = True) -> None:
        self.vectorizer = vectorizer
        self.k = k
        self.clean = clean

    def fingerprint(self) -> dict[str, Any]:
        vocab = sorted(self.vectorizer.vocabulary_.items())
        digest = hashlib.sha256(json.dumps(vocab, ensure_ascii=False).encode()).hexdigest()
        idf = hashlib.sha256(self.vectorizer.idf_.tobytes()).hexdigest()
        return {"rows": "keywords", "k": self.k, "clean": self.clean, "vocabulary": digest, "idf": idf}

    def one(self, rec: Record) -> dict[str, Any]:
        kws = self.vectorizer.keywords(document_text(rec, self.clean), k=self.k)
        return {"id": rec.id, "keywords": [[kw.term, round(kw.score, 4)] for kw in kws]}


def _reported_title(rec: Record, art: Any, *, clean: bool) -> Any:
    """The title a row reports: the record's title field (a page's <title>, a JSONL or CSV field, a
    document's properties), normalised like the body when the body is cleaned (:func:`clean_title`),
    else the title :func:`clean_article` found in the text."""
    from ..text.clean import clean_title

    title = rec.metadata.get("title")
    if title is not None and title != "":
        return clean_title(title) if clean else title
    return art.title if art is not None else None


class CountRows(PerRecord):
    """Rows of lexicon counts: tokens, hits per category, hits per 1,000 tokens, and the terms found."""

    def __init__(self, counter: Any, *, clean: bool = True) -> None:
        self.counter = counter  # a fitted LexiconCounter
        self.clean = clean
        cats = list(counter.categories_)
        self.columns = (Column("id"), Column("title"), Column("date"), Column("tokens", "int"), *(Column(c, "int") for c in cats),
                        *(Column(f"{c}_per_1k", "float") for c in cats), Column("terms", "json"), Column("error"))

    def fingerprint(self) -> dict[str, Any]:
        lexicon = {"terms": self.counter.terms_, "exclusions": self.counter.exclusions_,
                   "tokenizer": self.counter.tokenizer_.to_config()}
        digest = hashlib.sha256(json.dumps(lexicon, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        return {"rows": "count", "clean": self.clean, "lexicon": digest, "columns": "title+date"}

    def one(self, rec: Record) -> dict[str, Any]:
        from ..text.clean import usable_text

        text, art = usable_text(record_text(rec), clean=self.clean)
        hits, tokens, terms = self.counter.count([text])
        row: dict[str, Any] = {"id": rec.id}
        for key in ("title", "date"):
            value = (_reported_title(rec, art, clean=self.clean) if key == "title"
                     else rec.metadata.get(key) or (art.date if art is not None else None))
            if value:
                row[key] = value
        row["tokens"] = int(tokens[0])
        for j, c in enumerate(self.counter.categories_):
            row[c] = int(hits[0, j])
        for j, c in enumerate(self.counter.categories_):
            row[f"{c}_per_1k"] = round(float(hits[0, j]) * 1000 / tokens[0], 4) if tokens[0] else 0.0
        row["terms"] = terms[0]
        return row


def theme_model(model: Any) -> Any:
    """``model`` if it is a ThemeClassifier (or ThemePredictor); else the model saved in that folder
    (None: the bundled model), loaded for prediction only, without importing scikit-learn."""
    from ..themes._linear import ThemePredictor, ThemeArithmetic
    from ..persist import default_model_path

    if isinstance(model, ThemeArithmetic):
        return model
    return ThemePredictor.load(default_model_path() if model is None else model)

