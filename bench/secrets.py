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
import sysconfig
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(cmd, cwd=None, env=None, check=True):
    result = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if check and result.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gate", required=True)
    parser.add_argument("--work", default=str(HERE / "work" / "secrets"))
    parser.add_argument("--megabytes", type=int, default=100, help="real source text")
    parser.add_argument("--dense-megabytes", type=int, default=100, help="the corpus's text in files of ~32 KB")
    parser.add_argument("--small-megabytes", type=int, default=10, help="text in copies of the corpus (small files)")
    parser.add_argument("--detect-megabytes", type=int, default=5, help="the share detect-secrets scans beside gate")
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
    # --no-verify: no network calls to check a secret (they would wait on DNS here, and
    # gate makes none); it changes nothing found.
    scan = json.loads(run([str(detect), "scan", "--no-verify", "--all-files"], cwd=corpus).stdout)
    theirs = {(path, r["line_number"]) for path, results in scan["results"].items() for r in results}

    def score(found):
        hits = len(found & planted.keys())
        return hits, len(found - planted.keys())

    print(f"corpus: {len(planted)} planted secrets of {len(set(planted.values()))} rules, among lookalikes")
    print(f"{'tool':16} {'recall':>8} {'false positives':>16}")
    for name, found in [("gate", ours), ("detect-secrets", theirs)]:
        hits, false = score(found)
        print(f"{name:16} {hits:>4}/{len(planted):<3} {false:>16}")

    # Speed: about the size asked for, committed, scanned whole by `gate secrets --all` on
    # one core (taskset): real source text (this Python's standard library and the crates
    # cargo has unpacked), with the corpus among it; the corpus's own text repeated into
    # files of ~32 KB (a planted secret every few lines: the regexes' worst case); and copies
    # of the corpus itself (small files: per-file costs dominate).
    layouts = {}
    real = work / "real"
    sources = [Path(sysconfig.get_paths()["stdlib"]), Path.home() / ".cargo" / "registry" / "src"]
    total = 0
    shutil.copytree(corpus, real / "corpus", ignore=shutil.ignore_patterns(".git"))
    for source in sources:
        for path in sorted(source.rglob("*")):
            if total >= args.megabytes * 1024 * 1024:
                break
            if path.suffix not in (".py", ".rs", ".md", ".toml", ".txt", ".json", ".c", ".h") or not path.is_file() \
                    or path.is_symlink() or "site-packages" in path.parts:
                continue
            target = real / source.name / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            total += target.stat().st_size
    layouts["real source"] = real
    text = "".join(f.read_text(errors="replace") for f in sorted(corpus.rglob("*"))
                   if f.is_file() and ".git" not in f.parts and b"\0" not in f.read_bytes()[:8000])
    per_file = text * max(1, 32 * 1024 // len(text))
    big = work / "big"
    count = max(1, args.dense_megabytes * 1024 * 1024 // len(per_file))
    for i in range(count):
        folder = big / f"d{i // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:06d}.txt").write_text(per_file + f"# {i}\n")
    layouts["dense corpus text"] = big
    small = work / "small"
    size = sum(f.stat().st_size for f in corpus.rglob("*") if f.is_file() and ".git" not in f.parts)
    copies = max(1, args.small_megabytes * 1024 * 1024 // size)
    for i in range(copies):
        shutil.copytree(corpus, small / f"copy{i:06d}", ignore=shutil.ignore_patterns(".git"))
    layouts["corpus copies"] = small
    # detect-secrets is far slower: both tools on the same smaller share of the real and
    # of the dense text.
    shares = {"real source": work / "share-real", "dense corpus text": work / "share-dense"}
    for name, share in shares.items():
        taken = 0
        for path in sorted(p for p in layouts[name].rglob("*") if p.is_file()):
            if taken >= args.detect_megabytes * 1024 * 1024:
                break
            target = share / path.relative_to(layouts[name])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            taken += target.stat().st_size
    for folder in [real, big, small, *shares.values()]:
        (folder / "gates.toml").write_text('[gates.secrets]\nkind = "secrets"\n')
        run(["git", "init", "-q"], cwd=folder)
        run(["git", "add", "-A"], cwd=folder)

    def timed(cmd, cwd, reps=3):
        samples = []
        for _ in range(reps):
            start = time.perf_counter()
            run(cmd, cwd=cwd)
            samples.append(time.perf_counter() - start)
        return sorted(samples)[len(samples) // 2]

    def megabytes(folder):
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and ".git" not in f.parts) / 1e6

    one_core = ["taskset", "-c", "0", gate, "secrets", "--all"]
    print("\ngate secrets --all on one core (median of 3):")
    for name, folder in layouts.items():
        files = sum(1 for f in folder.rglob("*") if f.is_file() and ".git" not in f.parts)
        print(f"{name:16} {megabytes(folder):>6.0f} MB in {files:>6} files {timed(one_core, folder):>8.2f}s")
    per_commit(gate, work)
    detect_one_core = ["taskset", "-c", "0", str(detect), "-c", "1", "scan", "--no-verify", "--all-files"]
    print("\nthe same files, gate beside detect-secrets, each on one core:")
    for name, share in shares.items():
        ours, theirs = timed(one_core, share), timed(detect_one_core, share, reps=1)
        print(f"{name:18} {megabytes(share):>4.0f} MB: gate {ours:>6.2f}s, detect-secrets {theirs:>7.2f}s"
              f" ({theirs / ours:.0f}x gate's time)")


def per_commit(gate, work, files=20000, reps=15):
    """What a secrets gate adds to a pre-commit run: a 20,000-file repository, 5 staged
    files with added lines, `gate hook pre-commit` with a secrets gate beside the same run
    with one no-op gate instead, interleaved."""
    sys.path.insert(0, str(HERE))
    import bench  # the benchmark's own repository builder
    repo = work / "commit"
    bench.make_repo(repo, files)
    configs = {"secrets": '[gates.secrets]\nkind = "secrets"\n',
               "no-op": '[gates.noop]\nkind = "lint"\nfiles = ["*.py"]\nrun = ["true", "{files}"]\n'}
    samples = {name: [] for name in configs}
    for i in range(reps + 1):
        for name, config in configs.items():
            (repo / "gates.toml").write_text(config)
            for n in range(5):
                with open(repo / f"pkg0000/module_{n:05d}.py", "a") as f:
                    f.write(f"token_{i} = compute({n})\n")
            run(["git", "add", "-A"], cwd=repo)
            start = time.perf_counter()
            run([gate, "hook", "--no-cache", "pre-commit"], cwd=repo)
            if i:  # the first round warms the caches
                samples[name].append(time.perf_counter() - start)
    medians = {name: sorted(v)[len(v) // 2] for name, v in samples.items()}
    print(f"\na pre-commit run with 5 staged files in {files} ({reps} runs each, interleaved, median):")
    for name, seconds in medians.items():
        print(f"{name + ' gate':16} {seconds * 1000:>8.1f} ms")
    print(f"the secrets gate adds {(medians['secrets'] - medians['no-op']) * 1000:.1f} ms to a run with a no-op gate")


if __name__ == "__main__":
    main()
