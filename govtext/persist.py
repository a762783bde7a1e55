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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import GovtextError

__all__ = ["FORMAT_VERSION", "IncompatibleModelError", "check_finite", "load", "load_array", "load_arrays",
           "read_manifest", "write_manifest"]

MANIFEST = "govtext.json"
# Version 2: ThemeClassifier with character n-grams counted per sentence and a sentence model
# (older versions of govtext refuse it instead of mis-reading it). Other objects still write 1.
FORMAT_VERSION = 2


class IncompatibleModelError(GovtextError, ValueError):
    """A saved object cannot be read by this version of govtext."""


def _npy_header(fh: Any, where: str) -> tuple[tuple[int, ...], Any, int]:
    """(shape, dtype, data bytes declared) of the .npy stream at ``fh``; checks what it can."""
    import numpy as np

    try:
        major, _ = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(fh)
    except (ValueError, OSError, SyntaxError) as exc:
        raise IncompatibleModelError(f"{where} is not a valid .npy array: {exc}") from None
    if dtype.hasobject:
        raise IncompatibleModelError(f"{where} holds Python objects; govtext saves only numbers")
    count = 1
    for n in shape:
        count *= int(n)
    return tuple(int(n) for n in shape), dtype, count * dtype.itemsize


def load_array(path: str | os.PathLike[str], *, kinds: str = "fiu", ndim: int | None = None,
               mmap: bool = False) -> Any:
    """Read one ``.npy`` file of a saved object after checking its header: numeric dtype of one of
    ``kinds``, ``ndim`` dimensions, and a file as long as the header says (so a crafted header cannot
    make govtext allocate memory it does not need). Raises :class:`IncompatibleModelError`."""
    import numpy as np

    file = Path(path)
    if not file.is_file():
        raise IncompatibleModelError(f"{file.parent}: {file.name} is missing")
    with open(file, "rb") as fh:
        shape, dtype, nbytes = _npy_header(fh, str(file))
        available = file.stat().st_size - fh.tell()
    if dtype.kind not in kinds:
        raise IncompatibleModelError(f"{file} holds {dtype} values; expected kind {kinds!r}")
    if ndim is not None and len(shape) != ndim:
        raise IncompatibleModelError(f"{file} has {len(shape)} dimensions, expected {ndim}")
    if nbytes != available:
        raise IncompatibleModelError(f"{file} declares {nbytes:,} bytes of data but holds {available:,}")
    return np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)


def load_arrays(path: str | os.PathLike[str], names: dict[str, int], *, optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Read named arrays (name -> dimensions) from a saved ``.npz`` file, checking each header against
    the size stored in the archive before reading it. Names in ``optional`` may be absent."""
    import zipfile

    import numpy as np

    file = Path(path)
    if not file.is_file():
        raise IncompatibleModelError(f"{file.parent}: {file.name} is missing")
    out: dict[str, Any] = {}
    try:
        with zipfile.ZipFile(file) as zf:
            members = {info.filename: info for info in zf.infolist()}
            for name, ndim in names.items():
                info = members.get(name + ".npy")
                if info is None:
                    if name in optional:
                        continue
                    raise IncompatibleModelError(f"{file} has no array {name!r}")
                with zf.open(info) as fh:
                    shape, dtype, nbytes = _npy_header(fh, f"{file}:{name}")
                    header = fh.tell()
                if dtype.kind not in "fiu" or len(shape) != ndim or header + nbytes != info.file_size:
                    raise IncompatibleModelError(f"{file}: array {name!r} is {dtype} with shape {shape} in "
                                                 f"{info.file_size:,} bytes; expected {ndim} numeric dimensions")
            with np.load(file, allow_pickle=False) as arrays:
                for name in names:
                    if name + ".npy" in members:
                        out[name] = np.asarray(arrays[name])
    except (zipfile.BadZipFile, OSError) as exc:
        raise IncompatibleModelError(f"{file} is not a readable .npz archive: {exc}") from None
    return out


def check_finite(folder: str | os.PathLike[str], **arrays: Any) -> None:
    """Raise :class:`IncompatibleModelError` naming the first array with NaN or infinite values."""
    import numpy as np

    for name, value in arrays.items():
        if not np.isfinite(np.asarray(value, dtype=np.float64)).all():
            raise IncompatibleModelError(f"{folder}: {name} holds NaN or infinite values")


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


def read_terms(path: Path) -> list[str]:
    """A saved vocabulary file: a JSON list of distinct strings (anything else is an
    :class:`IncompatibleModelError` naming the file)."""
    try:
        terms = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IncompatibleModelError(f"cannot read {path}: {exc}") from None
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms) or len(set(terms)) != len(terms):
        raise IncompatibleModelError(f"{path} must be a JSON list of distinct strings")
    return terms


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
    kind = read_manifest(path).get("type")
    if kind == "Vectorizer":
        from .features.vectorize import Vectorizer

        return Vectorizer.load(path)
    if kind == "ThemeClassifier":
        from .themes.classify import ThemeClassifier

        return ThemeClassifier.load(path)
    if kind == "SimilarityIndex":
        from .search.similarity import SimilarityIndex

        return SimilarityIndex.load(path, mmap=mmap)
    if kind == "WordVectors":
        from .features.wordvectors import WordVectors

        return WordVectors.load(path)
    raise IncompatibleModelError(f"{path} holds an object of unknown type {kind!r}")


@contextmanager
def reading(path: str | os.PathLike[str], kind: str) -> Iterator[None]:
    """Report a hand-edited or damaged saved folder as :class:`IncompatibleModelError` naming the
    folder, not as whichever ``KeyError`` or ``ValueError`` reading it tripped on."""
    try:
        yield
    except (IncompatibleModelError, FileNotFoundError):
        raise
    except (KeyError, TypeError, AttributeError, ValueError, UnicodeDecodeError, OSError) as exc:
        raise IncompatibleModelError(f"{path} is not a valid saved {kind}: {type(exc).__name__}: {exc}") from None
