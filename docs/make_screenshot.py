"""Take the screenshot of `govtext serve` shown in README.md (docs/serve.png).

Builds an index of every 20th 《新闻联播》 item from ../shared/corpora/xwlb, serves it on a free local
port and photographs one search with Debian's headless Chromium. Needs govtext[serve]:

    python docs/make_screenshot.py
"""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import uvicorn

import govtext
from govtext.apps.serve import create_app

HERE = Path(__file__).resolve().parent
XWLB = HERE.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"


def main() -> int:
    browser = shutil.which("chromium")
    if not XWLB.is_file() or browser is None:
        print("skipped: needs ../shared/corpora/xwlb and chromium")
        return 0
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, 0, None, 20)]
    rows = [r for r in rows if r["text"].strip()]
    with tempfile.TemporaryDirectory() as tmp:
        govtext.SimilarityIndex(progress=False).fit(
            [r["text"] for r in rows], ids=[r["id"] for r in rows],
            metadata=[{"title": r["title"], "date": r["date"]} for r in rows]).save(Path(tmp) / "idx")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(Path(tmp) / "idx"), host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        query = {"q": "在老旧小区推行楼道微自治,党员带头认领楼道,居民议事会商量楼道环境整治", "k": 4, "since": "2014-01-01"}
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={HERE / 'serve.png'}", "--window-size=1000,1250", "--virtual-time-budget=5000",
                        f"http://127.0.0.1:{port}/?{urlencode(query)}"], check=True, capture_output=True)
        server.should_exit = True
    print("wrote", HERE / "serve.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
