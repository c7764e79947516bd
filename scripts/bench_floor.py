#!/usr/bin/env python3
"""make bench-floor: how much of the worker's CPU per slice its two system libraries take by themselves.

The chain benchmark (scripts/bench_chain.py) reports refit's CPU per slice against a goal of 2 ms.
This script measures the floor under that figure: what the same work costs in libsqlite3 and
libcurl when C calls them directly, with nothing of refit around them. Four small C programs in
scripts/floor/, compiled here with the system's C compiler against the same libraries refit links:

- sqlcapture.so, loaded into `refit run` with LD_PRELOAD for one chain-N run, records every
  statement the worker runs and the values bound to it (refit itself is unchanged);
- sqlreplay runs those statements again on a new database, each prepared once and then bound,
  stepped and reset as refit does, and reports the CPU per slice, the COMMITs' share, commits and
  write-ahead-log frames per slice, and the costliest statements;
- commitcost measures one commit's CPU for 1, 4 and 13 pages written, with the worker's settings;
- httpfloor sends a slice's six requests (blob PUT, submit, start, status, evaluation GET, PATCH)
  with plain libcurl over one kept-alive connection to refit-mlsim, and reports the client's CPU.

A plain chain-N run in the same invocation gives refit's own figure to compare with. Each
measurement is repeated (--repeat, median). Figures, never a pass/fail; but the replay must have
done the same work as refit, so the database it writes is compared with the one refit wrote (the
rows of every table, the windows' states and the audit chain's last hash) and the result printed.
"""
import argparse, json, os, shutil, sqlite3, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_chain  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOOR = os.path.join(ROOT, "scripts", "floor")


def compile_tools(out):
    # The Swift toolchain brings clang, so a machine that builds refit has a C compiler.
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        sys.exit("bench_floor: no C compiler found (cc, gcc or clang; set $CC)")
    builds = [
        (["-O2", "-fPIC", "-shared", "-o", os.path.join(out, "sqlcapture.so"), os.path.join(FLOOR, "sqlcapture.c"), "-ldl", "-lsqlite3"]),
        (["-O2", "-o", os.path.join(out, "sqlreplay"), os.path.join(FLOOR, "sqlreplay.c"), "-lsqlite3"]),
        (["-O2", "-o", os.path.join(out, "commitcost"), os.path.join(FLOOR, "commitcost.c"), "-lsqlite3"]),
        (["-O2", "-o", os.path.join(out, "httpfloor"), os.path.join(FLOOR, "httpfloor.c"), "-lcurl"]),
    ]
    for args in builds:
        result = subprocess.run([cc, *args], capture_output=True, text=True)
        if result.returncode != 0:
            source = next(a for a in args if a.endswith(".c"))
            sys.exit(f"bench_floor: compiling {os.path.basename(source)} failed:\n{result.stderr}")


def capture_folder(real_bin, tools, scratch):
    """A bin folder whose `refit run` loads sqlcapture.so; every other command and refit-mlsim are the real ones."""
    prefix = os.path.join(scratch, "capture")
    folder = bench_chain.wrapper_bin(scratch, real_bin,
                                     f"case \"$1\" in run) REFIT_FLOOR_CAPTURE='{prefix}' LD_PRELOAD='{tools}/sqlcapture.so' "
                                     f"exec '{real_bin}/refit' \"$@\";; esac\n"
                                     f"exec '{real_bin}/refit' \"$@\"\n")
    return folder, prefix


def run_json(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bench_floor: {os.path.basename(args[0])} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def database_digest(path):
    """What the replay must reproduce: each table's row count, the windows by state, the audit chain's head."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        digest = {"rows": {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}}
        digest["windows"] = sorted(db.execute("SELECT activity, state, count(*) FROM windows GROUP BY 1, 2").fetchall())
        head = db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        digest["audit_head"] = list(head) if head else None
    return digest


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", help="folder of the release binaries (default: swift build -c release --show-bin-path)")
    parser.add_argument("--slices", type=int, default=int(bench_chain.setting("BENCH_FLOOR_SLICES", "720")))
    parser.add_argument("--repeat", type=int, default=int(bench_chain.setting("BENCH_FLOOR_REPEAT", "3")))
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args()
    real_bin = os.path.abspath(args.bin or bench_chain.release_bin())
    n = args.slices
    scratch = tempfile.mkdtemp(prefix="refit-bench-floor-")
    try:
        tools = os.path.join(scratch, "tools")
        os.makedirs(tools)
        compile_tools(tools)

        bench_chain.log(f"bench_floor: chain-{n}, refit as it is")
        plain = bench_chain.run_chain(real_bin, n, timeout=900)
        if not plain.get("finished"):
            sys.exit(f"bench_floor: the plain chain-{n} run did not finish: {plain.get('error') or plain}")

        bench_chain.log(f"bench_floor: chain-{n} again, its statements recorded")
        folder, prefix = capture_folder(real_bin, tools, scratch)
        kept = {}
        captured = bench_chain.run_chain(folder, n, timeout=900, keep=True,
                                         after=lambda bin_dir, schedules, db, env: kept.setdefault("db", db))
        if not captured.get("finished"):
            sys.exit(f"bench_floor: the recorded chain-{n} run did not finish: {captured.get('error') or captured}")
        # refit has stopped (run_chain stops it): its database is final, shutdown writes included.
        original = database_digest(kept["db"])
        shutil.rmtree(os.path.dirname(kept["db"]), ignore_errors=True)
        captures = [os.path.join(scratch, f) for f in os.listdir(scratch) if f.startswith("capture.")]
        if not captures:
            sys.exit("bench_floor: sqlcapture.so recorded nothing: is libsqlite3 linked dynamically into refit?")
        # One file per process that opened the database with the shim loaded: only `refit run` did.
        capture = max(captures, key=os.path.getsize)

        # The floor from replays that time only the COMMITs; the ranking from one that times every
        # statement (its total is a little higher: two clock reads per statement).
        replays = []
        for i in range(args.repeat):
            db = os.path.join(scratch, f"replay-{i}.sqlite")
            replays.append(run_json([os.path.join(tools, "sqlreplay"), capture, db, str(n)]))
        ranked = run_json([os.path.join(tools, "sqlreplay"), capture, os.path.join(scratch, "replay-ranked.sqlite"), str(n), "8"])
        replayed = database_digest(os.path.join(scratch, "replay-0.sqlite"))
        same = replayed == original
        if same:
            fidelity = (f"the replay wrote what refit wrote: {len(original['rows'])} tables, "
                        f"{sum(original['rows'].values())} rows, the same window states and audit chain head")
        else:
            differing = sorted(t for t in set(original["rows"]) | set(replayed["rows"])
                               if original["rows"].get(t) != replayed["rows"].get(t))
            fidelity = ("THE REPLAY DIFFERS from refit's database: " + (", ".join(
                f"{t} {original['rows'].get(t)} vs {replayed['rows'].get(t)}" for t in differing) or
                "window states or audit chain head"))
        failed = replays[0].get("failed", 0)
        commits = {}
        for pages in (1, 4, 13):
            runs = []
            for i in range(args.repeat):
                db = os.path.join(scratch, f"commit-{pages}-{i}.sqlite")
                runs.append(run_json([os.path.join(tools, "commitcost"), db, str(pages)]))
            commits[pages] = median_of(runs, "us_per_commit")

        emulator = bench_chain.Emulator(real_bin, scratch)
        try:
            url = emulator.info["training"]["jobsURL"]
            base = url.split("/", 3)
            base = base[0] + "//" + base[2]
            http = [run_json([os.path.join(tools, "httpfloor"), base, str(max(n, 1000))]) for _ in range(args.repeat)]
        finally:
            emulator.stop()

        sql_ms = median_of(replays, "cpu_ms_per_slice")
        http_ms = median_of(http, "cpu_ms_per_slice")
        result = {
            "slices": n,
            "refit_cpu_ms_per_slice": plain["cpu_ms_per_slice"],
            "sql_floor_ms_per_slice": sql_ms,
            "sql_floor_runs": [round(r["cpu_ms_per_slice"], 3) for r in replays],
            "commit_ms_per_slice": median_of(replays, "commit_ms_per_slice"),
            "commits_per_slice": replays[0]["commits_per_slice"],
            "frames_per_slice": replays[0]["frames_per_slice"],
            "statements_per_slice": replays[0]["statements"] / n,
            "commit_us_by_pages": commits,
            "http_floor_ms_per_slice": http_ms,
            "http_floor_us_per_request": median_of(http, "cpu_us_per_request"),
            "libraries_ms_per_slice": sql_ms + http_ms,
            "left_for_refit_under_goal_ms": bench_chain.GOAL_CPU_MS_PER_SLICE - sql_ms - http_ms,
            "top_statements": ranked["top"],
            "replay_matches_refit": same,
            "replay_failed_statements": failed,
            "fidelity": fidelity,
        }
        if args.format == "json":
            print(json.dumps(result, indent=2))
            return
        print(f"floor of chain-{n} ({args.repeat} runs each, median)")
        print(f"  refit run, CPU per slice (plain run)           {result['refit_cpu_ms_per_slice']:7.2f} ms   goal {bench_chain.GOAL_CPU_MS_PER_SLICE:.1f} ms")
        print(f"  its SQL replayed in C, CPU per slice           {sql_ms:7.2f} ms   runs {result['sql_floor_runs']}")
        print(f"    of which COMMIT                              {result['commit_ms_per_slice']:7.2f} ms   "
              f"{result['commits_per_slice']:.2f} commits, {result['frames_per_slice']:.0f} log frames, "
              f"{result['statements_per_slice']:.0f} statements per slice")
        print("    one commit, by pages written                 " +
              ", ".join(f"{p}: {commits[p]:.1f} us" for p in (1, 4, 13)))
        print(f"  its six requests in plain libcurl, per slice   {http_ms:7.2f} ms   ({result['http_floor_us_per_request']:.1f} us a request)")
        print(f"  the two libraries alone                        {result['libraries_ms_per_slice']:7.2f} ms   "
              f"leaves {result['left_for_refit_under_goal_ms']:.2f} ms under the goal for all of refit's own code")
        print(f"  check: {fidelity}" + (f"; {failed} statements failed in the replay as in refit" if failed else ""))
        print("  costliest statements in a replay timing each (us per slice, runs, us each):")
        for t in result["top_statements"]:
            print(f"    {t['us_per_slice']:7.1f} {t['runs']:7d} {t['us_each']:7.2f}  {t['sql'][:80]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
