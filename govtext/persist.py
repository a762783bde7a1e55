"""Saving and loading govtext objects without pickle.

A saved object is a folder holding ``govtext.json`` (its type, format version, parameters and the
versions of govtext, scikit-learn, numpy and the segmenter that wrote it) next to arrays in
``.npy``/``.npz`` files and plain JSON. :func:`load` reads any of them.
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import stat
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import GovtextError, InputError, ParameterError

__all__ = ["FORMAT_VERSION", "IncompatibleModelError", "check_finite", "has_member", "load", "load_array",
           "load_arrays", "open_member", "read_json", "read_manifest", "read_weighted_terms", "section",
           "write_manifest"]

MANIFEST = "govtext.json"
# Version 2: ThemeClassifier with character n-grams counted per sentence and a sentence model
# (older versions of govtext refuse it instead of mis-reading it). Other objects still write 1.
# Version 3: ThemeClassifier with calibration shifts and thresholds per genre, an optional oof.npz.
FORMAT_VERSION = 3


class IncompatibleModelError(GovtextError, ValueError):
    """A saved object cannot be read by this version of govtext (or its folder is damaged or crafted)."""


# --------------------------------------------------------------------------- the one way files are read
#
# Every file of a saved folder is opened here: a regular file inside the folder, never a symbolic
# link (which could show a file from elsewhere) nor a FIFO or device (which could block for ever or
# never end). Every failure to read or parse is an IncompatibleModelError naming the file.


def _refuse(path: Path, mode: int) -> IncompatibleModelError:
    what = ("a symbolic link" if stat.S_ISLNK(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a folder" if stat.S_ISDIR(mode) else "a device or socket")
    return IncompatibleModelError(f"{path} is {what}; a saved govtext folder holds only regular files "
                                  "(copy the file itself into the folder)")


def has_member(folder: str | os.PathLike[str], name: str) -> bool:
    """Whether the saved folder holds file ``name``: False when absent, True for a regular file, an
    :class:`IncompatibleModelError` for a link, FIFO, device or folder under that name."""
    path = Path(folder) / name
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise IncompatibleModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode)
    return True


def open_member(folder: str | os.PathLike[str], name: str) -> Any:
    """Open file ``name`` of a saved folder for reading in binary mode, refusing links and anything
    but a regular file (checked with ``lstat``, opened with ``O_NOFOLLOW`` and ``O_NONBLOCK`` so that a
    FIFO swapped in meanwhile cannot block, and checked again on the open descriptor)."""
    path = Path(folder) / name
    if not has_member(folder, name):
        raise IncompatibleModelError(f"{Path(folder)}: {name} is missing")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise IncompatibleModelError(f"cannot read {path}: {exc.strerror or exc} (a link or special file?)") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(path, mode)
    return os.fdopen(fd, "rb")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number govtext writes")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        raise ValueError(f"{text[:30]} is not a finite number")
    return value


def read_json(folder: str | os.PathLike[str], name: str) -> Any:
    """The JSON value of file ``name`` of a saved folder (UTF-8, standard JSON only: no NaN or
    Infinity); undecodable, malformed or absurdly nested JSON is an :class:`IncompatibleModelError`."""
    with open_member(folder, name) as fh:
        try:
            raw = fh.read()
        except OSError as exc:
            raise IncompatibleModelError(f"cannot read {Path(folder) / name}: {exc}") from None
    return parse_json(raw, f"{Path(folder) / name}")


@functools.lru_cache(maxsize=1)
def _decoder() -> json.JSONDecoder:
    # what json.loads(..., parse_constant=, parse_float=) builds on every call (a few µs each time)
    return json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def parse_json(raw: bytes, where: str) -> Any:
    """Decode one JSON document read from a saved folder (``where`` names it in errors)."""
    try:
        return _decoder().decode(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise IncompatibleModelError(f"{where} is not UTF-8 text: {exc}") from None
    except RecursionError:
        raise IncompatibleModelError(f"{where} nests JSON too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity
        raise IncompatibleModelError(f"{where} is not valid JSON: {exc}") from None


def section(manifest: dict[str, Any], folder: str | os.PathLike[str], name: str,
            default: dict[str, Any] | None = None) -> dict[str, Any]:
    """``manifest[name]``, which must be a JSON object (``default`` when absent and a default is given)."""
    value = manifest.get(name, default)
    if not isinstance(value, dict):
        raise IncompatibleModelError(f"{Path(folder) / MANIFEST}: {name!r} must be a JSON object, got "
                                     f"{type(value).__name__ if value is not None else 'nothing'}")
    return value


def check_saved(folder: str | os.PathLike[str], ok: bool, message: str) -> None:
    """Raise :class:`IncompatibleModelError` ``folder: message`` unless ``ok``."""
    if not ok:
        raise IncompatibleModelError(f"{folder}: {message}")


def saved_int(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` read from a folder is an int (not a bool) within [low, high]."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _npy_header(fh: Any, where: str) -> tuple[tuple[int, ...], Any, bool, int]:
    """(shape, dtype, Fortran order, data bytes declared) of the .npy stream at ``fh``; checks what it can."""
    import numpy as np

    try:
        major, _ = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(fh)
    except (ValueError, OSError, SyntaxError, RecursionError, MemoryError) as exc:
        raise IncompatibleModelError(f"{where} is not a valid .npy array: {exc}") from None
    if dtype.hasobject:
        raise IncompatibleModelError(f"{where} holds Python objects; govtext saves only numbers")
    return tuple(int(n) for n in shape), dtype, bool(fortran), math.prod(int(n) for n in shape) * dtype.itemsize


def _check_header(where: str, shape: tuple[int, ...], dtype: Any, kinds: str, ndim: int | None,
                  expect: tuple[int | None, ...] | None) -> None:
    if dtype.kind not in kinds:
        raise IncompatibleModelError(f"{where} holds {dtype} values; expected kind {kinds!r}")
    if ndim is not None and len(shape) != ndim:
        raise IncompatibleModelError(f"{where} has {len(shape)} dimensions, expected {ndim}")
    if expect is not None and (len(expect) != len(shape)
                               or any(e is not None and e != n for e, n in zip(expect, shape))):
        want = "(" + ", ".join("any" if e is None else str(e) for e in expect) + ("," if len(expect) == 1 else "") + ")"
        raise IncompatibleModelError(f"{where} has shape {shape} in its header; the rest of the folder implies {want}")


def load_array(path: str | os.PathLike[str], *, kinds: str = "fiu", ndim: int | None = None,
               mmap: bool = False, shape: tuple[int | None, ...] | None = None) -> Any:
    """Read one ``.npy`` file of a saved object after checking its header: numeric dtype of one of
    ``kinds``, ``ndim`` dimensions, the ``shape`` the rest of the folder implies (``None`` for any
    length), and a file exactly as long as the header says — so a crafted header cannot make govtext
    allocate memory the file does not hold. The file is opened as :func:`open_member` opens it (no
    links, no FIFOs); memory-mapped with ``mmap``. Raises :class:`IncompatibleModelError`."""
    import numpy as np

    file = Path(path)
    with open_member(file.parent, file.name) as fh:
        dims, dtype, fortran, nbytes = _npy_header(fh, str(file))
        offset = fh.tell()
        available = os.fstat(fh.fileno()).st_size - offset
        _check_header(str(file), dims, dtype, kinds, ndim, None)
        if nbytes != available:
            raise IncompatibleModelError(f"{file} declares {nbytes:,} bytes of data but holds {available:,}")
        _check_header(str(file), dims, dtype, kinds, ndim, shape)
        if mmap and nbytes:
            try:
                return np.memmap(fh, dtype=dtype, mode="r", offset=offset, shape=dims, order="F" if fortran else "C")
            except (OSError, ValueError) as exc:
                raise IncompatibleModelError(f"cannot map {file}: {exc}") from None
        return _read_data(fh, dims, dtype, fortran, str(file))


def _read_data(fh: Any, dims: tuple[int, ...], dtype: Any, fortran: bool, where: str) -> Any:
    """The array whose header was just read from ``fh``, read straight into its own buffer."""
    import numpy as np

    flat = np.empty(math.prod(dims), dtype=dtype)
    view = flat.view(np.uint8)
    got = 0
    try:
        while got < len(view):
            n = fh.readinto(view[got:])
            if not n:
                break
            got += n
    except OSError as exc:
        raise IncompatibleModelError(f"cannot read {where}: {exc}") from None
    if got != len(view):
        raise IncompatibleModelError(f"{where} is truncated or changed while it was read")
    return flat.reshape(dims, order="F" if fortran else "C")


def load_arrays(path: str | os.PathLike[str], names: dict[str, tuple[int | None, ...]], *,
                optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Read named arrays from a saved ``.npz`` file. ``names`` maps each name to the shape the rest of
    the folder implies (``None`` for a dimension of any length); every header is checked against it
    and against the size stored in the archive before a byte of data is decompressed, so a small
    archive declaring a huge array is refused. Names in ``optional`` may be absent."""
    import zipfile

    file = Path(path)
    out: dict[str, Any] = {}
    with open_member(file.parent, file.name) as raw:
        try:
            with zipfile.ZipFile(raw) as zf:
                members = {info.filename: info for info in zf.infolist()}
                for name, expect in names.items():
                    info = members.get(name + ".npy")
                    if info is None:
                        if name in optional:
                            continue
                        raise IncompatibleModelError(f"{file} has no array {name!r}")
                    where = f"{file}:{name}"
                    with zf.open(info) as fh:
                        dims, dtype, fortran, nbytes = _npy_header(fh, where)
                        _check_header(where, dims, dtype, "fiu", len(expect), expect)
                        if fh.tell() + nbytes != info.file_size:
                            raise IncompatibleModelError(f"{where} declares {nbytes:,} bytes of data in a member "
                                                         f"of {info.file_size:,} bytes")
                        out[name] = _read_data(fh, dims, dtype, fortran, where)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise IncompatibleModelError(f"{file} is not a readable .npz archive: {exc}") from None
    return out


def check_finite(folder: str | os.PathLike[str], **arrays: Any) -> None:
    """Raise :class:`IncompatibleModelError` naming the first array with NaN or infinite values."""
    import numpy as np

    for name, value in arrays.items():
        if not np.isfinite(np.asarray(value, dtype=np.float64)).all():
            raise IncompatibleModelError(f"{folder}: {name} holds NaN or infinite values")


def check_range(folder: str | os.PathLike[str], name: str, value: Any, low: float, high: float, *,
                low_open: bool = False) -> None:
    """Raise :class:`IncompatibleModelError` unless every value of array ``name`` is finite and within
    [low, high] (``(low, high]`` with ``low_open``): values far outside what govtext writes would
    overflow into infinite scores or NaN later."""
    import numpy as np

    array = np.asarray(value)
    if not array.size:
        return
    if not np.isfinite(array).all():
        raise IncompatibleModelError(f"{folder}: {name} holds NaN or infinite values")
    lo, hi = float(array.min()), float(array.max())
    if lo < low or (low_open and lo <= low) or hi > high:
        raise IncompatibleModelError(f"{folder}: {name} holds values from {lo:g} to {hi:g}; govtext writes values "
                                     f"{'above' if low_open else 'from'} {low:g} {'up ' if low_open else ''}to {high:g}")


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
    """Read and check ``govtext.json`` in ``path``: a JSON object with a known format version and,
    when ``expected`` is given, that type."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"no saved govtext object at {folder}: not a folder")
    if not has_member(folder, MANIFEST):
        raise FileNotFoundError(f"no saved govtext object at {folder}: {MANIFEST} is missing")
    manifest = read_json(folder, MANIFEST)
    if not isinstance(manifest, dict):
        raise IncompatibleModelError(f"{folder / MANIFEST} must hold a JSON object, got a {type(manifest).__name__}")
    fmt = manifest.get("format_version")
    versions = manifest.get("versions")
    written_by = versions.get("govtext", "an unknown version") if isinstance(versions, dict) else "an unknown version"
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > FORMAT_VERSION:
        raise IncompatibleModelError(
            f"{folder} was saved by govtext {str(written_by)[:40]} in format {str(fmt)[:40]}; govtext {__version__} "
            f"reads formats up to {FORMAT_VERSION}. Upgrade govtext (pip install -U govtext) to load it."
        )
    if expected is not None and manifest.get("type") != expected:
        raise IncompatibleModelError(f"{folder} holds a {str(manifest.get('type'))[:60]!r}, not a {expected!r}")
    return manifest


def read_terms(path: Path) -> list[str]:
    """A saved vocabulary file: a JSON list of distinct non-empty strings (anything else is an
    :class:`IncompatibleModelError` naming the file)."""
    terms = read_json(path.parent, path.name)
    # set(map(type, ...)) and set(...) run in C: a vocabulary of a million terms is checked at once
    if (not isinstance(terms, list) or not set(map(type, terms)) <= {str} or "" in (distinct := set(terms))
            or len(distinct) != len(terms)):
        raise IncompatibleModelError(f"{path} must be a JSON list of distinct strings, none empty")
    return terms


# IDF is ln((1 + n) / (1 + df)) + 1 (or without the ones): at least 1, and about 30 for a trillion
# documents. A value outside (0, MAX_IDF] in a saved folder was not written by govtext.
MAX_IDF = 1000.0


def read_weighted_terms(folder: Path, prefix: str = "") -> tuple[list[str], Any]:
    """``{prefix}vocabulary.json`` and ``{prefix}idf.npy`` of a saved folder: distinct terms and one
    positive, finite IDF value per term (anything else is an :class:`IncompatibleModelError`)."""
    terms = read_terms(folder / f"{prefix}vocabulary.json")
    idf = load_array(folder / f"{prefix}idf.npy", kinds="f", ndim=1, shape=(len(terms),))
    check_range(folder, f"{prefix}idf.npy", idf, 0.0, MAX_IDF, low_open=True)
    return terms, idf


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
    if kind == "ShardedIndex":
        from .search.sharded import ShardedIndex

        return ShardedIndex.load(path, mmap=mmap)
    if kind == "WordVectors":
        from .features.wordvectors import WordVectors

        return WordVectors.load(path)
    raise IncompatibleModelError(f"{path} holds an object of unknown type {kind!r}")


@contextmanager
def reading(path: str | os.PathLike[str], kind: str) -> Iterator[None]:
    """Report a value in a saved folder that govtext's own checks refuse (an :class:`InputError` or
    :class:`ParameterError` raised while rebuilding the object) as :class:`IncompatibleModelError`
    naming the folder. Loaders validate what they read explicitly; any other exception (a
    ``KeyError`` or ``TypeError`` in govtext's own code) is a bug and is not disguised as a bad folder."""
    try:
        yield
    except IncompatibleModelError:
        raise
    except (InputError, ParameterError) as exc:
        raise IncompatibleModelError(f"{path} is not a valid saved {kind}: {exc}") from None
