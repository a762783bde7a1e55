"""Start-up cost of govtext commands, side by side with bare Python and the hand-rolled stack.

Runs each command --runs times (alternating, so that machine noise hits all alike) and prints the
median wall time and its ratio to bare Python:

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.txt"
        one.write_text("5月12日,某社区党支部组织党员志愿者开展文明劝导,并召开居民议事会协商加装电梯事宜。", encoding="utf-8")
        commands = {
            "python -c pass": [py, "-c", "pass"],
            "import sklearn + jieba (hand-rolled stack)": [
                py, "-c", "import sklearn.linear_model, sklearn.feature_extraction.text, jieba"],
            "govtext --version": [py, "-m", "govtext", "--version"],
            "govtext classify one.txt": [py, "-m", "govtext", "classify", str(one), "-q"],
            "import govtext; load().predict": [
                py, "-c", "import govtext; govtext.load().predict(['社区党支部召开组织生活会'])"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["python -c pass"])
    stack = statistics.median(times["import sklearn + jieba (hand-rolled stack)"])
    print(f"median of {args.runs} runs each, alternating")
    print(f"{'command':<45}{'median s':>10}{'× bare python':>15}{'× sklearn+jieba import':>24}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<45}{med:>10.3f}{med / base:>15.1f}{med / stack:>24.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
