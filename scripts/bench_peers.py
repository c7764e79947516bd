#!/usr/bin/env python3
"""make bench-peers: the retrain -> update chain in Luigi (zero-work steps) and in Refit, same N, same run.

For each N (default 720; $PEER_SIZES or --sizes): Luigi 3.8 in the bench virtualenv runs
scripts/bench_luigi_chain.py (local scheduler, 4 workers, LocalTarget outputs; wall time of the
whole process, interpreter start and imports included), then Refit runs the chain of
scripts/bench_chain.py through refit-mlsim (real HTTP, release build). Prints both walls and
refit/luigi (the goal: at most 0.2 at N=720). Then the no-op re-run over the finished work: a second
Luigi build over the complete outputs vs a second `refit tick` over the finished database (process
start included, both), and the median of 21 more such ticks in milliseconds (the goal: at most 20).

The virtualenv (.venv-bench, or $BENCH_VENV) is created with Luigi from PyPI when missing.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_chain  # noqa: E402

ROOT = bench_chain.ROOT
LUIGI_REQUIREMENT = "luigi==3.8.*"
GOAL_RATIO = 0.2


def ensure_venv(venv):
    python = os.path.join(venv, "bin", "python")
    if os.access(python, os.X_OK) and subprocess.run([python, "-c", "import luigi"], capture_output=True).returncode == 0:
        return python
    if not os.access(python, os.X_OK):
        bench_chain.log(f"bench-peers: creating {os.path.relpath(venv, ROOT)}")
        made = subprocess.run([sys.executable, "-m", "venv", venv])
        if made.returncode != 0:
            sys.exit("bench-peers: `python3 -m venv` failed; on Debian/Ubuntu install python3-venv (apt-get install python3-venv)")
    bench_chain.log(f"bench-peers: pip install {LUIGI_REQUIREMENT}")
    if subprocess.run([python, "-m", "pip", "install", "-q", LUIGI_REQUIREMENT]).returncode != 0:
        sys.exit(f"bench-peers: pip install {LUIGI_REQUIREMENT} into {venv} failed")
    return python


def luigi_version(python):
    out = subprocess.run([python, "-c", "import luigi, importlib.metadata as m; print(m.version('luigi'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


def run_luigi(python, n, scratch):
    """Wall of a fresh Luigi build of the chain, then of a second build over the finished outputs."""
    data, out = os.path.join(scratch, "data"), os.path.join(scratch, "out")
    os.makedirs(data)
    for h in range(n):
        with open(os.path.join(data, f"{h}.csv"), "w") as f:
            f.write(bench_chain.slice_csv(h))
    script = os.path.join(ROOT, "scripts", "bench_luigi_chain.py")
    walls = []
    for name in ("luigi-first.log", "luigi-noop.log"):
        with open(os.path.join(scratch, name), "w") as err:
            t0 = time.monotonic()
            proc = subprocess.run([python, script, str(n), data, out], stdout=err, stderr=err, cwd=scratch,
                                  stdin=subprocess.DEVNULL)
            walls.append(time.monotonic() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"the Luigi build failed (status {proc.returncode}); see {os.path.join(scratch, name)}")
    done = len(os.listdir(os.path.join(out, "updates")))
    if done != n:
        raise RuntimeError(f"the Luigi build left {done} of {n} updates")
    return walls


NOOP_REPEATS = 21
GOAL_NOOP_MS = 20


def refit_noop_tick(bin_dir, schedules, db, env):
    """A second `refit tick` over the finished database: wall including process start, and what it
    did; then NOOP_REPEATS more, whose median is the no-op tick's figure (a single run of a
    20-odd-millisecond process says little on a machine whose speed drifts)."""
    def tick():
        t0 = time.monotonic()
        proc = subprocess.run([os.path.join(bin_dir, "refit"), "tick", "--db", db, "--schedules", schedules],
                              cwd=os.path.dirname(schedules), env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return time.monotonic() - t0, proc
    wall, proc = tick()
    result = {"wall_s": wall, "status": proc.returncode, "stderr_tail": proc.stderr.strip().splitlines()[-1:] if proc.returncode else []}
    if proc.returncode == 0:
        walls = [tick()[0] for _ in range(NOOP_REPEATS)]
        result["repeat_median_ms"] = statistics.median(walls) * 1000
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", help="folder of the release binaries (default: swift build -c release --show-bin-path)")
    parser.add_argument("--sizes", default=bench_chain.setting("PEER_SIZES", "720"), help="chain sizes N ($PEER_SIZES, default 720)")
    parser.add_argument("--timeout", type=float, default=float(bench_chain.setting("BENCH_CHAIN_TIMEOUT", "900")),
                        help="seconds Refit's chain may take ($BENCH_CHAIN_TIMEOUT, default 900)")
    parser.add_argument("--venv", default=bench_chain.setting("BENCH_VENV", os.path.join(ROOT, ".venv-bench")))
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args()
    # Absolute: the chain runs refit from its scratch folder.
    bin_dir = os.path.abspath(args.bin) if args.bin else bench_chain.release_bin()
    python = ensure_venv(args.venv)
    version = luigi_version(python)
    results = []
    if args.format == "table":
        print(f"\npeers: retrain -> update chain of N hourly windows. Luigi {version}: zero-work tasks, local scheduler,"
              f" 4 workers. Refit: real HTTP to refit-mlsim --job-duration 0, retrain concurrency 4, update 1.", flush=True)
    for n in bench_chain.sizes_from(args.sizes):
        scratch = tempfile.mkdtemp(prefix=f"refit-bench-luigi-{n}-")
        try:
            luigi_first, luigi_noop = run_luigi(python, n, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        refit = bench_chain.run_chain(bin_dir, n, args.timeout, after=refit_noop_tick)
        row = {"n": n, "luigi_version": version, "luigi_wall_s": luigi_first, "luigi_noop_wall_s": luigi_noop, "refit": refit}
        if refit.get("finished"):
            row["ratio"] = refit["wall_s"] / luigi_first
        results.append(row)
        if args.format == "table":
            print(f"N={n:<5}  luigi {luigi_first:7.2f} s   " + bench_chain.fmt_chain(refit).replace(f"chain-{n:<5}  ", "refit "), flush=True)
            if "ratio" in row:
                print(f"         refit/luigi {row['ratio']:.2f} (goal <= {GOAL_RATIO:g})", flush=True)
            if refit.get("sanity"):
                print(f"         sanity {refit['sanity']}", flush=True)
            after = refit.get("after")
            if after:
                note = "" if after["status"] == 0 else f" (exit {after['status']}: {' '.join(after['stderr_tail'])})"
                print(f"         no-op re-run: luigi.build over the finished chain {luigi_noop:.2f} s, "
                      f"refit tick over the finished DB {after['wall_s']:.2f} s{note}", flush=True)
                if "repeat_median_ms" in after:
                    print(f"         no-op refit tick, median of {NOOP_REPEATS} more: {after['repeat_median_ms']:.1f} ms "
                          f"(goal <= {GOAL_NOOP_MS} ms)", flush=True)
    if args.format == "json":
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    bench_chain.exit_on_sigterm()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
