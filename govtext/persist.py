"""Saving and loading govtext objects without pickle.

A saved object is a folder holding ``govtext.json`` (its type, format version, parameters and the
versions of govtext, scikit-learn, numpy and the segmenter that wrote it) next to arrays in
``.npy``/``.npz`` files and plain JSON. :func:`load` reads any of them.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ._version import __version__

__all__ = ["FORMAT_VERSION", "IncompatibleModelError", "load", "read_manifest", "write_manifest"]

MANIFEST = "govtext.json"
# Version 2: ThemeClassifier with character n-grams counted per sentence and a sentence model
# (older versions of govtext refuse it instead of mis-reading it). Other objects still write 1.
FORMAT_VERSION = 2


class IncompatibleModelError(ValueError):
    """A saved object cannot be read by this version of govtext."""


def _pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def library_versions(engine: str | None = None) -> dict[str, str]:
    versions = {
        "govtext": __version__,
        "scikit-learn": _pkg_version("scikit-learn"),
        "numpy": _pkg_version("numpy"),
        "scipy": _pkg_version("scipy"),
        "python": platform.python_version(),
    }
    if engine:
        versions[engine] = _pkg_version(engine)
    return versions


def write_manifest(path: str | os.PathLike[str], kind: str, payload: dict[str, Any], engine: str | None = None,
                   *, format_version: int = 1) -> Path:
    """Create ``path`` (if needed) and write its ``govtext.json`` (in format ``format_version``)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"type": kind, "format_version": format_version, "versions": library_versions(engine), **payload}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return folder


def read_manifest(path: str | os.PathLike[str], expected: str | None = None) -> dict[str, Any]:
    """Read and check ``govtext.json`` in ``path``."""
    folder = Path(path)
    file = folder / MANIFEST
    if not folder.is_dir():
        raise FileNotFoundError(f"no saved govtext object at {folder}: not a folder")
    if not file.is_file():
        raise FileNotFoundError(f"no saved govtext object at {folder}: {MANIFEST} is missing")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IncompatibleModelError(f"{file} is not valid JSON: {exc}") from None
    fmt = manifest.get("format_version")
    written_by = manifest.get("versions", {}).get("govtext", "an unknown version")
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise IncompatibleModelError(
            f"{folder} was saved by govtext {written_by} in format {fmt!r}; govtext {__version__} reads "
            f"formats up to {FORMAT_VERSION}. Upgrade govtext (pip install -U govtext) to load it."
        )
    if expected is not None and manifest.get("type") != expected:
        raise IncompatibleModelError(f"{folder} holds a {manifest.get('type')!r}, not a {expected!r}")
    return manifest


def default_model_path() -> Path:
    """Folder of the model bundled with govtext (the repository's ``models/default``)."""
    return Path(str(resources.files("govtext.models").joinpath("default")))


def load(path: str | os.PathLike[str] | None = None, *, mmap: bool = True) -> Any:
    """Load a saved govtext object (vectorizer, classifier, similarity index) from a folder.

    With no argument, loads the default theme model bundled with govtext. A similarity index's
    postings are memory-mapped unless ``mmap=False``.
    """
    if path is None:
        path = default_model_path()
        if not (path / MANIFEST).is_file():
            raise FileNotFoundError(
                f"the bundled default model is missing from {path}; reinstall govtext or pass a model folder"
            )
    manifest = read_manifest(path)
    kind = manifest.get("type")
    if kind == "Vectorizer":
        from .vectorize import Vectorizer

        return Vectorizer._from_saved(Path(path), manifest)
    if kind == "ThemeClassifier":
        from .classify import ThemeClassifier

        return ThemeClassifier._from_saved(Path(path), manifest)
    if kind == "SimilarityIndex":
        from .similarity import SimilarityIndex

        return SimilarityIndex._from_saved(Path(path), manifest, mmap=mmap)
    raise IncompatibleModelError(f"{path} holds an object of unknown type {kind!r}")
