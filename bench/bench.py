#!/usr/bin/env python3
"""Times gate against pre-commit, prek and lefthook doing the same pre-commit work on one
20,000-file repository, side by side in one run, and prints ratios (never absolute
claims: the machines are shared and noisy).

Floor: `git diff --cached --name-only`, the least any tool must do to learn what is staged.
Each tool runs its pre-commit entry point as the hook would: `gate hook pre-commit`,
`pre-commit run`, `prek run`, `lefthook run pre-commit`.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Burns a fixed amount of CPU in the shell itself: no process start-up noise inside.
SPIN = "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done"


def run(cmd, cwd, env=None, quiet=True):
    result = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"bench: `{' '.join(map(str, cmd))}` failed ({result.returncode}):\n{result.stdout.decode(errors='replace')[-2000:]}")
    return result.stdout


def make_repo(path, count):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], path)
    # gc.auto 0: no detached `git gc` during the timings (or while the folder is removed).
    for key, value in [("user.name", "bench"), ("user.email", "bench@example.invalid"), ("commit.gpgsign", "false"),
                       ("gc.auto", "0")]:
        run(["git", "config", key, value], path)
    per_dir = 100
    for i in range(count):
        directory = path / f"pkg{i // per_dir:04d}"
        directory.mkdir(exist_ok=True)
        (directory / f"module_{i:05d}.py").write_text(f"value = {i}\n")
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-q", "-m", "init"], path)


def write_configs(repo, gates, record=None):
    """gates: list of (name, shell command or None for a no-op that takes the files).
    record: a script that appends its arguments to a log named for the gate; every tool then
    runs it instead of the work, to show each handed the same files to the same gates."""
    gate_toml, pre_commit, lefthook = [], ["repos:", "- repo: local", "  hooks:"], ["pre-commit:", "  parallel: true", "  commands:"]
    for name, spin in gates:
        if spin is None:
            argv = [record, name] if record else ["true"]
            gate_toml.append(f'[gates.{name}]\nkind = "lint"\nfiles = ["*.py"]\nrun = {argv + ["{files}"]!r}\n'.replace("'", '"'))
            pre_commit += [f"  - id: {name}", f"    name: {name}", f"    entry: '{' '.join(argv)}'", "    language: system", r"    files: \.py$"]
            lefthook += [f"    {name}:", '      glob: "*.py"', f"      run: {' '.join(argv)} {{staged_files}}"]
        else:
            work = f"{record} {name}" if record else spin
            gate_toml.append(f'[gates.{name}]\nkind = "lint"\nfiles = ["*.py"]\nrun = ["sh", "-c", "{work}"]\n')
            pre_commit += [f"  - id: {name}", f"    name: {name}", f"    entry: sh -c '{work}'", "    language: system",
                           r"    files: \.py$", "    pass_filenames: false", "    require_serial: true"]
            lefthook += [f"    {name}:", '      glob: "*.py"', f"      run: sh -c '{work}'"]
    (repo / "gates.toml").write_text("\n".join(gate_toml))
    (repo / ".pre-commit-config.yaml").write_text("\n".join(pre_commit) + "\n")
    (repo / "lefthook.yml").write_text("\n".join(lefthook) + "\n")
    run(["git", "add", "gates.toml", ".pre-commit-config.yaml", "lefthook.yml"], repo)
    run(["git", "commit", "-q", "--no-verify", "--allow-empty", "-m", "configs"], repo)


def stage(repo, count, edits_in_them=False, edits_elsewhere=0):
    """Stages `count` changed files; then, unstaged, edits those files again and/or edits
    `edits_elsewhere` other tracked files (every hook manager must set those aside)."""
    run(["git", "reset", "-q", "--hard"], repo)
    changed = []
    for i in range(count):
        path = f"pkg{i // 100:04d}/module_{i:05d}.py"
        with open(repo / path, "a") as f:
            f.write("# changed\n")
        changed.append(path)
    for start in range(0, len(changed), 1000):
        run(["git", "add", "--", *changed[start:start + 1000]], repo)
    if edits_in_them:
        for path in changed:
            with open(repo / path, "a") as f:
                f.write("# unstaged\n")
    for i in range(10000, 10000 + edits_elsewhere):
        with open(repo / f"pkg{i // 100:04d}/module_{i:05d}.py", "a") as f:
            f.write("# unstaged elsewhere\n")


def time_all(commands, repo, env, reps):
    samples = {name: [] for name in commands}
    for name, cmd in commands.items():  # warm-up: caches, first-run setup
        run(cmd, repo, env)
    for _ in range(reps):
        for name, cmd in commands.items():  # interleaved, so noise hits every tool alike
            start = time.perf_counter()
            run(cmd, repo, env)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gate", required=True, help="the gate binary")
    parser.add_argument("--least", help="bench/least.rs built: the least any runner does for --all")
    parser.add_argument("--files", type=int, default=20000, help="files in the repository")
    parser.add_argument("--reps", type=int, default=7, help="timed runs per tool and scenario (median shown)")
    parser.add_argument("--work", default=str(HERE / "work"), help="scratch directory")
    parser.add_argument("--memory-files", type=int, default=200000,
                        help="a second repository of this many files for the peak-memory row (0: skip)")
    args = parser.parse_args()

    work = Path(args.work)
    repo = work / "repo"
    env = dict(os.environ, PRE_COMMIT_HOME=str(work / "pre-commit-home"), PREK_HOME=str(work / "prek-home"),
               NO_COLOR="1", LEFTHOOK_QUIET="meta,summary,success,execution_info")
    peers = {"pre-commit": ["pre-commit", "run"], "prek": ["prek", "run"], "lefthook": ["lefthook", "run", "pre-commit"]}
    missing = [name for name, cmd in peers.items() if shutil.which(cmd[0]) is None]
    for name in missing:
        print(f"bench: `{name}` not found; it is left out (bench/run.sh installs it)", file=sys.stderr)
    gate = str(Path(args.gate).resolve())
    # The floor of a correct pre-commit run: what is staged, and what is not (to set it aside);
    # of an `--all` run: the tracked files. `--no-cache`: the same work as the peers, which
    # have no result cache; the warm-cache row below measures the cache on its own.
    modes = {
        "hook": {"floor": ["git", "diff", "--cached", "--name-only"], "floor-wt": ["git", "diff", "--name-only"],
                 "gate": [gate, "hook", "--no-cache", "pre-commit"], **{n: c for n, c in peers.items() if n not in missing}},
        "all": {"floor": ["git", "ls-files"], "gate": [gate, "check", "--all", "--no-cache"],
                **{n: c + ["--all-files"] for n, c in peers.items() if n not in missing}},
    }

    print(f"building a {args.files}-file repository in {repo} ...", file=sys.stderr)
    make_repo(repo, args.files)
    noop = [(f"noop{i}", None) for i in range(1, 5)]
    spin = [(f"cpu{i}", SPIN) for i in range(1, 5)]
    scenarios = [
        ("4 no-op gates, no change", noop, 0, {}, "hook"),
        ("4 no-op gates, 1 file", noop, 1, {}, "hook"),
        ("4 no-op gates, 100 files", noop, 100, {}, "hook"),
        ("4 no-op gates, 5000 files", noop, 5000, {}, "hook"),
        ("100 files + unstaged in them", noop, 100, {"edits_in_them": True}, "hook"),
        ("100 files + 100 unstaged else", noop, 100, {"edits_elsewhere": 100}, "hook"),
        ("4 CPU-bound gates (2 cores)", spin, 1, {}, "hook"),
        ("1 gate, all 5000 files", noop[:1], 5000, {}, "hook"),
        (f"4 no-op gates, --all ({args.files})", noop, 0, {}, "all"),
    ]
    cpus = os.cpu_count()
    print(f"{args.reps} runs each, median; {cpus} CPUs; repository on {filesystem(repo)}; "
          "ratios only mean something within this run\n")
    tools = [name for name in modes["hook"] if not name.startswith("floor")]
    header = f"{'scenario':30} " + " ".join(f"{name:>11}" for name in tools)
    print("what each tool adds to the floor (git diff --cached --name-only; --all: git ls-files), in floors: (time - floor) / floor")
    print(header)
    results = []
    for title, gates, staged, edits, mode in scenarios:
        commands = dict(modes[mode])
        verify(work, repo, env, gates, staged, edits, commands)
        write_configs(repo, gates)
        stage(repo, staged, **edits)
        if gates is spin:  # the same work started all at once, with no runner
            at_once = " & ".join(['sh -c "$0"'] * len(gates)) + " & wait"
            commands["at-once"] = ["sh", "-c", at_once, SPIN]
            # ... after the floor: a runner that does nothing but learn what is staged
            commands["floor+at-once"] = ["sh", "-c", "git diff --cached --name-only >/dev/null; "
                                         "git diff --name-only >/dev/null; " + at_once, SPIN]
        if mode == "all" and args.least:  # the least any runner does: list the files, start 4 no-ops with them
            commands["at-once"] = [str(Path(args.least).resolve())]
        medians = time_all(commands, repo, env, args.reps)
        results.append((title, medians))
        floor = medians["floor"]
        print(f"{title:30} " + " ".join(f"{(medians[name] - floor) / floor:>10.1f}x" for name in tools), flush=True)
    print("\ngate's time over the whole floor (git diff --cached --name-only + git diff --name-only; --all: git ls-files):")
    for title, medians in results:
        print(f"{title:30} {medians['gate'] / (medians['floor'] + medians.get('floor-wt', 0)):>10.2f}x")
    # A passing pre-commit run again on the same content: served from gate's cache.
    write_configs(repo, noop)
    stage(repo, 100)
    hook = modes["hook"]
    warm = time_all({"floor": hook["floor"], "floor-wt": hook["floor-wt"], "gate": [gate, "hook", "pre-commit"]},
                    repo, env, args.reps)
    print(f"{'warm cache re-run, 100 files':30} {warm['gate'] / (warm['floor'] + warm['floor-wt']):>10.2f}x")
    for title, medians in results:
        if "at-once" in medians:
            print(f"{title + ', over the work at once':30} {medians['gate'] / medians['at-once']:>10.2f}x")
            if "floor+at-once" in medians:
                print(f"{'  (the floor, then the work at once, over the work at once)':30} "
                      f"{medians['floor+at-once'] / medians['at-once']:>10.2f}x")
            if "all" in title:
                print(f"{'  (the least runner over git ls-files)':30} {medians['at-once'] / medians['floor']:>10.2f}x")
    print("\nhow many times longer each peer takes than gate (higher is better for gate):")
    print(f"{'scenario':30} " + " ".join(f"{name:>11}" for name in tools if name != "gate"))
    for title, medians in results:
        print(f"{title:30} " + " ".join(f"{medians[name] / medians['gate']:>10.1f}x" for name in tools if name != "gate"))
    run(["git", "reset", "-q", "--hard"], repo)
    print("\npeak resident memory of a no-op pre-commit run (1 staged file, 4 gates), GNU time's %M:")
    memory(gate, repo, env, noop, args.files)
    if args.memory_files:
        big = work / "repo-big"
        print(f"building a {args.memory_files}-file repository in {big} ...", file=sys.stderr)
        make_repo(big, args.memory_files)
        memory(gate, big, env, noop, args.memory_files)
        shutil.rmtree(big)


def verify(work, repo, env, gates, staged, edits, commands):
    """Runs each tool once with every gate's work replaced by a recorder: each must hand the
    same gates the same files, and leave the index and the working tree as they were."""
    record, logs = work / "record", work / "records"
    record.write_text('#!/bin/sh\nname=$1; shift\nprintf "%s\\n" "$@" >> "$BENCH_RECORDS/$name"\n')
    record.chmod(0o755)
    write_configs(repo, gates, record=str(record))
    stage(repo, staged, **edits)
    state = lambda: run(["git", "status", "--porcelain"], repo) + run(["git", "diff", "--full-index"], repo) + run(["git", "diff", "--cached", "--full-index"], repo)
    before = state()
    seen = {}
    for name, cmd in commands.items():
        if name.startswith("floor"):
            continue
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir()
        run(cmd, repo, dict(env, BENCH_RECORDS=str(logs)))
        seen[name] = {log.name: sorted(log.read_text().split()) for log in logs.iterdir()}
        after = state()
        if after != before:
            import difflib
            diff = "\n".join(list(difflib.unified_diff(before.decode(errors="replace").splitlines(),
                                                         after.decode(errors="replace").splitlines(), lineterm=""))[:40])
            sys.exit(f"bench: {name} left the index or the working tree changed:\n{diff}")
    for name, calls in seen.items():
        if calls != seen["gate"]:
            diff = {g: (len(calls.get(g, [])), len(seen["gate"].get(g, []))) for g in set(calls) | set(seen["gate"])}
            sys.exit(f"bench: {name} did not do gate's work (files per gate, {name} vs gate): {diff}")


def filesystem(path):
    """The file system `path` is on, and for ext4 whether it keeps a journal: without one,
    creating a file skips every inode freed in the last minute (one buffer lookup each), so
    runs that set files aside cost more after runs that freed many."""
    found = subprocess.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "--target", str(path)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.split()
    if len(found) < 2:
        return "an unknown file system"
    kind, source = found[0], found[1]
    if kind != "ext4":
        return f"{kind} ({source})"
    device = Path(source).name
    journal = any(entry.name.startswith(f"{device}-") for entry in Path("/proc/fs/jbd2").glob("*"))
    return f"ext4 ({source}, {'journaled' if journal else 'no journal'})"


def memory(gate, repo, env, gates, files):
    write_configs(repo, gates)
    stage(repo, 1)
    peaks = []
    for _ in range(3):
        out = run(["/usr/bin/time", "-f", "%M", gate, "hook", "--no-cache", "pre-commit"], repo, env)
        peaks.append(int(out.decode().strip().splitlines()[-1]))
    print(f"{files:>7} tracked files: {statistics.median(peaks) / 1024:.1f} MB")
    run(["git", "reset", "-q", "--hard"], repo)


if __name__ == "__main__":
    main()
