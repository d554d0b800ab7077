#!/usr/bin/env python3
"""gate's secrets gate beside detect-secrets (PyPI) on the same corpus: recall and false
positives on the test corpus (planted secrets of every rule among lookalikes), and the time
to scan about 100 MB of text made of copies of it.

    bench/secrets.py --gate target/release/gate

The corpus comes from the integration test `secrets::the_corpus_…`, which copies it out
when GATE_BENCH_CORPUS is set.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(cmd, cwd=None, env=None, check=True):
    result = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gate", required=True)
    parser.add_argument("--work", default=str(HERE / "work" / "secrets"))
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tools = HERE / "work" / "tools"
    detect = tools / "venv" / "bin" / "detect-secrets"
    if not detect.exists():
        run([str(tools / "venv" / "bin" / "pip"), "install", "--quiet", "detect-secrets"])
    corpus = work / "corpus"
    env = dict(os.environ, GATE_BENCH_CORPUS=str(corpus))
    run(["cargo", "test", "--quiet", "--release", "--test", "it", "the_corpus"], cwd=HERE.parent, env=env)
    planted = {}
    for line in (corpus / "planted.txt").read_text().split("\n"):
        if line:
            path, number, rule = line.split(":", 2)
            planted[(path, int(number))] = rule
    (corpus / "planted.txt").unlink()
    gate = str(Path(args.gate).resolve())

    # gate: `path:line:col: rule: masked`
    out = run([gate, "secrets", "--all"], cwd=corpus).stdout
    ours = {(l.split(":")[0], int(l.split(":")[1])) for l in out.splitlines() if l.count(":") >= 3 and not l.endswith("found")}
    # detect-secrets: its JSON results, path -> [{line_number}]
    scan = json.loads(run([str(detect), "scan", "--all-files"], cwd=corpus).stdout)
    theirs = {(path, r["line_number"]) for path, results in scan["results"].items() for r in results}

    def score(found):
        hits = len(found & planted.keys())
        return hits, len(found - planted.keys())

    print(f"corpus: {len(planted)} planted secrets of {len(set(planted.values()))} rules, among lookalikes")
    print(f"{'tool':16} {'recall':>8} {'false positives':>16}")
    for name, found in [("gate", ours), ("detect-secrets", theirs)]:
        hits, false = score(found)
        print(f"{name:16} {hits:>4}/{len(planted):<3} {false:>16}")

    # Speed: copies of the corpus up to about the size asked for, committed, scanned whole.
    big = work / "big"
    big.mkdir()
    size = sum(f.stat().st_size for f in corpus.rglob("*") if f.is_file() and ".git" not in f.parts)
    copies = max(1, args.megabytes * 1024 * 1024 // size)
    for i in range(copies):
        shutil.copytree(corpus, big / f"copy{i:06d}", ignore=shutil.ignore_patterns(".git"))
    run(["git", "init", "-q"], cwd=big)
    run(["git", "add", "-A"], cwd=big)
    total = sum(f.stat().st_size for f in big.rglob("*") if f.is_file() and ".git" not in f.parts)
    timings = {}
    for name, cmd in [("gate", [gate, "secrets", "--all"]), ("detect-secrets", [str(detect), "scan", "--all-files"])]:
        start = time.perf_counter()
        run(cmd, cwd=big)
        timings[name] = time.perf_counter() - start
    print(f"\n{total / 1e6:.0f} MB of text in {copies} copies, scanned whole:")
    for name, seconds in timings.items():
        print(f"{name:16} {seconds:>8.2f}s")
    print(f"detect-secrets takes {timings['detect-secrets'] / timings['gate']:.1f}x gate's time")


if __name__ == "__main__":
    main()
