#!/usr/bin/env python3
"""Coverage parsing speed: builds a repository of 4,500 tracked files and a ~100 MB LCOV
report measuring 2,000 lines of each, then times `gate coverage` on it (median of runs) and
prints throughput. Usage: bench/coverage.py --gate target/release/gate [--mb 100]"""

import argparse
import random
import shutil
import statistics
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gate", required=True)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", default=str(HERE / "work" / "coverage"))
    args = parser.parse_args()
    gate = str(Path(args.gate).resolve())
    repo = Path(args.work)
    if repo.exists():
        shutil.rmtree(repo)
    (repo / "src/gen").mkdir(parents=True)
    rng = random.Random(7)
    size, count, chunks = 0, 0, []
    while size < args.mb * 1_000_000:
        lines = [f"SF:src/gen/file_{count}.py\n"]
        for line in range(1, 2000):
            lines.append(f"DA:{line},{rng.randint(0, 3)}\n")
            if line % 10 == 0:
                lines.append(f"BRDA:{line},0,0,1\n")
        lines.append("end_of_record\n")
        chunk = "".join(lines)
        chunks.append(chunk)
        size += len(chunk)
        (repo / f"src/gen/file_{count}.py").write_text("")
        count += 1
    (repo / "lcov.info").write_text("".join(chunks))
    for cmd in (["git", "init", "-q"], ["git", "add", "src"], ["git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "i"]):
        subprocess.run(cmd, cwd=repo, check=True)
    samples = []
    for _ in range(args.reps):
        start = time.perf_counter()
        subprocess.run([gate, "coverage", "lcov.info"], cwd=repo, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    median = statistics.median(samples)
    mb = size / 1_000_000
    print(f"gate coverage: {mb:.0f} MB LCOV, {count} files, {count * 1999} measured lines: "
          f"median {median:.2f} s ({mb / median:.0f} MB/s)")


if __name__ == "__main__":
    main()
