"""Run the notebooks top to bottom and save them with their outputs, kept small for GitHub.

    python notebooks/execute.py                     # all four, in place
    python notebooks/execute.py notebooks/04_trends.ipynb

Outputs are cleared first, then every cell runs in a fresh kernel started in notebooks/. A stream
longer than MAX_LINES lines is cut (the cut is marked in the output), charts are stored as PNG with
a palette of at most 128 colours (a third of the bytes, the same picture), run timings are not stored, and
a notebook whose images exceed MAX_IMAGE_BYTES in all, or whose output shows an error, a warning on
stderr or a missing glyph, is not written. tests/test_notebooks.py checks what this writes.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_LINES = 30
MAX_IMAGE_BYTES = 100_000


def image_bytes(book) -> int:
    """Bytes of the PNG/JPEG images in a notebook's outputs."""
    return sum(len(base64.b64decode(out["data"][kind])) for cell in book.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []) for kind in ("image/png", "image/jpeg")
               if kind in out.get("data", {}))


def trim(book) -> None:
    """Cut long streams and plain-text results to MAX_LINES lines, saying how many were left out, and
    store charts with a palette."""
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for out in cell.outputs:
            if out.output_type == "stream":
                out.text = _cut(out.text)
                continue
            data = out.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = _cut(data["text/plain"])
            if "image/png" in data:
                data["image/png"] = _palette_png(data["image/png"])


def _palette_png(encoded: str, colours: int = 128) -> str:
    """The base64 PNG with its pixels mapped to a palette of ``colours`` colours (kept if not smaller)."""
    import io

    from PIL import Image

    raw = base64.b64decode(encoded)
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colours, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    smaller = out.getvalue()
    return base64.b64encode(smaller).decode("ascii") + "\n" if len(smaller) < len(raw) else encoded


def _cut(text: str) -> str:
    lines = text.splitlines(keepends=True)
    if len(lines) <= MAX_LINES:
        return text
    return "".join(lines[:MAX_LINES]) + f"… ({len(lines) - MAX_LINES} more lines not kept in the saved notebook)\n"


def problems(book) -> list[str]:
    found = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"{out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                found.append(out.text[:200])
    if image_bytes(book) > MAX_IMAGE_BYTES:
        found.append(f"images take {image_bytes(book):,} bytes (at most {MAX_IMAGE_BYTES:,})")
    return found


def execute(path: Path) -> None:
    import nbclient
    import nbformat

    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbclient.NotebookClient(book, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(HERE)}}).execute()
    trim(book)
    wrong = problems(book)
    if wrong:
        raise SystemExit(f"{path.name}: not saved: " + "; ".join(wrong))
    nbformat.write(book, path)
    print(f"{path.name}: saved, {image_bytes(book):,} bytes of images, {path.stat().st_size:,} bytes in all")


def main(argv: list[str]) -> None:
    for path in [Path(a) for a in argv] or sorted(HERE.glob("*.ipynb")):
        execute(path)


if __name__ == "__main__":
    main(sys.argv[1:])
