#!/usr/bin/env python3
"""Side by side: the chain-N scenario of scripts/bench_chain.py, run alternately by the release
binaries of an earlier commit and of this tree, so that both see the same machine.

This machine is shared and its speed drifts by tens of percent within an hour, so a before/after
figure taken at two different times says little; pairs taken back to back do. The script builds
COMMIT's release binaries in a git worktree (`make release` there, several minutes), then runs
PAIRS pairs of chain-N, alternating which goes first, and prints per pair refit's CPU per slice
(user and system), wall per slice and peak RSS, the ratio this tree / COMMIT, and the medians.
The worktree is removed at the end unless --keep-worktree.

Usage: python3 scripts/bench_ab.py --base 463c933 [--pairs 6] [--n 720] [--bin FOLDER]
(--bin: this tree's release folder; default `swift build -c release --show-bin-path`, which
`make release` fills). Not part of `make bench`.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_chain  # noqa: E402


def build_base(commit, folder):
    subprocess.run(["git", "worktree", "add", "--detach", folder, commit], cwd=bench_chain.ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"bench_ab: building {commit} in {folder} (make release)", flush=True)
    log = os.path.join(folder, "bench-ab-build.log")
    with open(log, "w") as out:
        if subprocess.run(["make", "release"], cwd=folder, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
            sys.exit(f"bench_ab: make release failed for {commit}; see {log}")
    return bench_chain.release_bin(folder)


def one(label, bin_dir, n, timeout):
    r = bench_chain.run_chain(bin_dir, n, timeout=timeout)
    if r.get("error") or not r.get("finished"):
        sys.exit(f"bench_ab: {label} chain-{n} did not finish: {r.get('error') or r.get('states')}")
    return {"cpu": r["cpu_ms_per_slice"], "user": r.get("cpu_user_s", 0) * 1000 / n,
            "system": r.get("cpu_system_s", 0) * 1000 / n, "wall": r["wall_ms_per_slice"], "rss": r.get("peak_rss_mib", 0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the earlier commit")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--n", type=int, default=720)
    parser.add_argument("--bin", help="this tree's release folder")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep-worktree", action="store_true")
    args = parser.parse_args()
    new_bin = os.path.abspath(args.bin or bench_chain.release_bin())
    if not os.path.exists(os.path.join(new_bin, "refit")):
        sys.exit(f"bench_ab: no refit in {new_bin}; run `make release` first")
    folder = tempfile.mkdtemp(prefix="refit-bench-ab-")
    os.rmdir(folder)
    try:
        base_bin = build_base(args.base, folder)
        rows = []
        for i in range(args.pairs):
            order = [("base", base_bin), ("new", new_bin)]
            if i % 2:
                order.reverse()
            pair = {label: one(label, path, args.n, args.timeout) for label, path in order}
            ratio = pair["new"]["cpu"] / pair["base"]["cpu"]
            rows.append((pair, ratio))
            for label in ("base", "new"):
                m = pair[label]
                print(f"pair {i + 1} {label:4}  CPU {m['cpu']:.2f} ms/slice (user {m['user']:.2f}, system {m['system']:.2f})  "
                      f"wall {m['wall']:.2f} ms/slice  peak RSS {m['rss']:.1f} MiB", flush=True)
            print(f"pair {i + 1} new/base CPU x{ratio:.2f}", flush=True)
        for label in ("base", "new"):
            med = {k: statistics.median(p[label][k] for p, _ in rows) for k in ("cpu", "user", "system", "wall", "rss")}
            print(f"median {label:4}  CPU {med['cpu']:.2f} ms/slice (user {med['user']:.2f}, system {med['system']:.2f})  "
                  f"wall {med['wall']:.2f} ms/slice  peak RSS {med['rss']:.1f} MiB")
        ratios = sorted(r for _, r in rows)
        print(f"chain-{args.n} new/base CPU per pair: median x{statistics.median(ratios):.2f} "
              f"(x{ratios[0]:.2f}-x{ratios[-1]:.2f}, {len(ratios)} pairs; base {args.base})")
    finally:
        if not args.keep_worktree and os.path.exists(folder):
            subprocess.run(["git", "worktree", "remove", "--force", folder], cwd=bench_chain.ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run(["git", "worktree", "prune"], cwd=bench_chain.ROOT)


if __name__ == "__main__":
    main()
