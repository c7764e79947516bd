#!/usr/bin/env python3
"""make bench: the retrain -> update chain end to end, and data-landing -> BES submit latency.

Scenario `chain-N` (the "Scheduling core v2" workload): N hourly windows of the example pipeline's
retrain -> update chain through the real HTTP path. Starts the release `refit-mlsim
--job-duration 0` on a free loopback port, writes a scratch schedules folder (the pipeline of
schedules/ spanning the N hours before the current hour, retrain concurrency 4, update
concurrency 1) and N FileShare CSV slices of 20 rows, runs the release `refit run` and stops it
(SIGTERM) once all 2N windows are terminal (Ready, Failed or Skipped; the database is polled
read-only every 100 ms). Reports the wall time (start of `refit run` -> all terminal), refit's CPU
(user + system, /proc at that moment) per slice, its peak RSS (VmHWM in /proc at that moment), and a sanity line from the
database and the emulator's operations log (every window Ready, one submit per retrain window, the
last window's model serving on the patched endpoint).

Scenario `latency`: `refit run` waits on an empty watched FileShare folder (windows of the D hours
before the current hour, due, their slices checked once and absent, next poll an hour away). The
script then moves slice files into the folder one at a time, `--latency-spacing-ms` apart, and
reads the matching BES `submit` from the emulator's operations log (`atMs`, milliseconds). Reports
data landing -> submit p50 / p99, with refit's own view of the same path from its JSON log
(landing -> "external slice Ready" -> "attempt started").

The binaries are built by make (`swift build -c release`); this script builds nothing. Only the
Python standard library; every process it starts is stopped (process groups) on exit or failure.
"""
import argparse, collections, datetime as dt, json, os, random, re, shutil, signal, sqlite3, statistics, subprocess, sys, tempfile, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIPELINE = "RetrainPipeline"
RETRAIN, UPDATE = "Retrain", "UpdateScoringEndpoint"
TERMINAL = ("Ready", "Failed", "Skipped")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

# The goals, printed next to the figures (never a failure).
GOAL_CPU_MS_PER_SLICE = 2.0
GOAL_RSS_MIB = 30.0
GOAL_P50_MS, GOAL_P99_MS = 50.0, 200.0
GOAL_SCALING = 1.5          # per-slice wall at 2880 / 8760 within 1.5x of 720's


def setting(name, default):
    """$NAME, or `default` when unset or empty (make exports unset variables as empty)."""
    return os.environ.get(name) or default


def log(message):
    print(message, file=sys.stderr, flush=True)


def release_bin(root=ROOT):
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("bench_chain: cannot find the release build folder (swift build -c release --show-bin-path failed)")
    return out.stdout.strip()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_floor(t):
    return t.replace(minute=0, second=0, microsecond=0)


def proc_cpu_split(pid):
    """(user, system) CPU seconds of a live process, from /proc/PID/stat (clock ticks)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_cpu_seconds(pid):
    """user + system CPU of a live process, from /proc/PID/stat (clock ticks)."""
    split = proc_cpu_split(pid)
    return sum(split) if split else None


def proc_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def stop_group(proc, grace=30.0):
    """SIGTERM to the process group, SIGKILL after `grace`; returns (status, rusage) from wait4 when this
    call reaped the process, else (None, None)."""
    if proc is None or proc.returncode is not None:
        return None, None
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        if time.monotonic() > deadline:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        time.sleep(0.02)


class Emulator:
    """refit-mlsim on a free loopback port; its first stdout line is the instance JSON."""

    def __init__(self, bin_dir, scratch, job_duration="0"):
        self.stderr = open(os.path.join(scratch, "mlsim.log"), "w")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "refit-mlsim"), "--host", "127.0.0.1", "--port", "0",
                                      "--job-duration", job_duration],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     start_new_session=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"refit-mlsim exited before printing its instance JSON (see {self.stderr.name})")
        self.info = json.loads(line)
        self.retrain = next(e for e in self.info["predictive"]["endpoints"] if e["name"] == "retrain")

    def env(self, db):
        info, retrain = self.info, self.retrain
        return dict(os.environ,
                    REFIT_DEMO_STORAGE_CONNECTION_STRING=info["storage"]["connectionString"],
                    REFIT_DEMO_TRAINING_JOBS_URL=info["training"]["jobsURL"],
                    REFIT_DEMO_TRAINING_API_KEY=info["training"]["apiKey"],
                    REFIT_DEMO_SCORING_JOBS_URL=retrain["executeURL"].replace("/execute", "/jobs"),
                    REFIT_DEMO_SCORING_API_KEY=retrain["apiKey"],
                    REFIT_DEMO_SCORING_MANAGEMENT_URL=retrain["managementURL"],
                    REFIT_DB=db)

    def cpu_seconds(self):
        return proc_cpu_seconds(self.proc.pid)

    def operations(self):
        request = urllib.request.Request(self.info["adminURL"] + "/operations",
                                         headers={"Authorization": "Bearer " + self.info["managementToken"]})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def blob(self, path):
        storage = self.info["storage"]
        with urllib.request.urlopen(f"{storage['blobEndpoint']}/{path}{storage['sasToken']}", timeout=30) as response:
            return response.read()

    def score(self, row):
        body = {"Inputs": {"input1": {"ColumnNames": list(row), "Values": [[str(v) for v in row.values()]]}},
                "GlobalParameters": {}}
        request = urllib.request.Request(self.retrain["executeURL"], data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": "Bearer " + self.retrain["apiKey"]})
        with urllib.request.urlopen(request, timeout=30) as response:
            value = json.loads(response.read())["Results"]["output1"]["value"]
        return float(value["Values"][0][value["ColumnNames"].index("Scored Labels")])

    def stop(self):
        stop_group(self.proc, grace=10)
        self.stderr.close()


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def write_schedules(folder, data_dir, start, end, retry_interval="00:01:00", maximum_retry=3):
    """schedules/ with the pipeline spanning [start, end), retrain concurrency 4, update concurrency 1,
    and the FileShare host pointing at `data_dir`."""
    src = os.path.join(ROOT, "schedules")
    for sub in ("linked-services", "datasets", "pipelines"):
        for name in sorted(os.listdir(os.path.join(src, sub))):
            value = read_json(os.path.join(src, sub, name))
            props = value["properties"]
            if value["name"] == "DemoFiles":
                props["typeProperties"]["host"] = os.path.relpath(data_dir, folder)
            elif value["name"] == "TrainingData":
                props["policy"]["externalData"].update(dataDelay="00:00:00", retryInterval=retry_interval,
                                                       maximumRetry=maximum_retry)
            elif value["name"] == PIPELINE:
                props["start"], props["end"] = iso(start), iso(end)
                for activity in props["activities"]:
                    activity["policy"]["concurrency"] = 4 if activity["name"] == RETRAIN else 1
            write_json(os.path.join(folder, sub, name), value)


def slice_path(data_dir, hour):
    return os.path.join(data_dir, "training", hour.strftime("%Y"), hour.strftime("%m"), hour.strftime("%d"),
                        hour.strftime("%H") + ".csv")


def slice_csv(index, rows=20):
    """20 rows of y = a*x1 + b*x2 + c + noise; the relation drifts with the slice index."""
    rng = random.Random(index)
    a, b, c = 3.0 - (index % 97) / 50.0, -2.0 + (index % 89) / 40.0, 5.0 + (index % 83) / 20.0
    lines = ["x1,x2,y"]
    for _ in range(rows):
        x1, x2 = rng.uniform(-5, 5), rng.uniform(-5, 5)
        lines.append(f"{x1:.4f},{x2:.4f},{a * x1 + b * x2 + c + rng.gauss(0, 0.05):.4f}")
    return "\n".join(lines) + "\n"


def open_db_ro(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


def query(db, sql, params):
    """Rows of a read-only query on the worker's database: a SQLite file, or a postgres:// URL
    (through `psql`, with `?` placeholders filled with quoted literals)."""
    if db.startswith("postgres://") or db.startswith("postgresql://"):
        text = sql
        for value in params:
            text = text.replace("?", "'" + str(value).replace("'", "''") + "'", 1)
        out = subprocess.run(["psql", db, "-At", "-F", "\t", "-c", text], capture_output=True, text=True)
        if out.returncode != 0:
            raise sqlite3.Error(out.stderr.strip())
        return [tuple(int(v) if v.isdigit() else v for v in line.split("\t")) for line in out.stdout.splitlines() if line]
    con = open_db_ro(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def create_pg_database(admin_url, n):
    """A fresh database on the server of `admin_url` for one run; returns its URL."""
    name = f"refit_bench_{os.getpid()}_{n}_{random.randrange(1 << 30)}"
    out = subprocess.run(["psql", admin_url, "-At", "-c", f"CREATE DATABASE {name}"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench_chain: cannot create a database on the PostgreSQL server: {out.stderr.strip()}")
    base, _, rest = admin_url.rpartition("/")
    query_string = "?" + rest.split("?", 1)[1] if "?" in rest else ""
    return f"{base}/{name}{query_string}"


def window_states(db_path):
    """{(activity, state): count} for the pipeline, or {} before the database has its tables."""
    if "://" not in db_path and not os.path.exists(db_path):
        return {}
    try:
        rows = query(db_path, "SELECT activity, state, COUNT(*) FROM windows WHERE pipeline = ? GROUP BY activity, state",
                     (PIPELINE,))
    except sqlite3.Error:
        return {}
    return {(a, s): n for a, s, n in rows}


def wrapper_bin(scratch, real_bin, script):
    """A bin folder for run_chain whose `refit` is the shell `script` (after its #! line) and
    whose `refit-mlsim` is the real one: how a profiler or a recorder is put under the chain."""
    folder = os.path.join(scratch, "bin")
    os.makedirs(folder)
    path = os.path.join(folder, "refit")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    os.symlink(os.path.join(real_bin, "refit-mlsim"), os.path.join(folder, "refit-mlsim"))
    return folder


def evict_from_page_cache(path):
    """Drops a binary's pages from the page cache (posix_fadvise DONTNEED; a no-op where that is
    unsupported), so that the next process reads it in as after a reboot or an install. How a
    file's cached pages were made changes how many of them the kernel maps around each page fault:
    a binary just written by the linker or `cp` ran with up to 2 MiB more resident code than the
    same file read in by the loader, which made one binary look larger than another depending on
    which was built last."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except (OSError, AttributeError):
        pass
    finally:
        os.close(fd)


def start_refit(bin_dir, schedules, db, env, stderr_path, extra=()):
    stderr = open(stderr_path, "w")
    proc = subprocess.Popen([os.path.join(bin_dir, "refit"), "run", "--db", db, "--schedules", schedules, *extra],
                            cwd=os.path.dirname(schedules), env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    return proc, stderr


# ---------------------------------------------------------------------------------------------
# chain-N


def run_chain(bin_dir, n, timeout, poll=0.1, keep=False, emulator_args=("0",), after=None, postgres=None):
    """One chain run of n hourly slices; returns a dict of figures (see the module docstring).
    `after(bin_dir, schedules, db, env)`, when given, runs once the chain finished, with the emulator still up;
    what it returns is stored as result["after"]."""
    scratch = tempfile.mkdtemp(prefix=f"refit-bench-chain-{n}-")
    emulator = refit = stderr = None
    result = {"scenario": f"chain-{n}", "n": n, "windows": 2 * n}
    try:
        emulator = Emulator(bin_dir, scratch, *emulator_args)
        data_dir, schedules, db = os.path.join(scratch, "data"), os.path.join(scratch, "schedules"), os.path.join(scratch, "refit.sqlite")
        if postgres:
            db = create_pg_database(postgres, n)
            result["store"] = "postgres"
        end = hour_floor(dt.datetime.now(dt.timezone.utc))
        start = end - dt.timedelta(hours=n)
        write_schedules(schedules, data_dir, start, end)
        hours = [start + dt.timedelta(hours=i) for i in range(n)]
        for i, hour in enumerate(hours):
            path = slice_path(data_dir, hour)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(slice_csv(i))
        env = emulator.env(db)
        mlsim_cpu0 = emulator.cpu_seconds()

        evict_from_page_cache(os.path.join(bin_dir, "refit"))
        t0 = time.monotonic()
        refit, stderr = start_refit(bin_dir, schedules, db, env, os.path.join(scratch, "refit-run.log"))
        states, done, cpu, rss_live, split = {}, False, None, None, None
        while time.monotonic() - t0 < timeout:
            if refit.poll() is not None:
                break
            states = window_states(db)
            terminal = sum(c for (a, s), c in states.items() if s in TERMINAL)
            total = sum(states.values())
            if total == 2 * n and terminal == 2 * n:
                done = True
                split = proc_cpu_split(refit.pid)
                cpu = sum(split) if split else None
                rss_live = proc_rss_mib(refit.pid)
                break
            time.sleep(poll)
        wall = time.monotonic() - t0
        mlsim_cpu = (emulator.cpu_seconds() or 0) - (mlsim_cpu0 or 0)
        exited_early = refit.returncode is not None
        status, usage = stop_group(refit)
        stderr.close()
        # The peak is the process's own high-water mark (VmHWM) once every window is terminal. wait4's
        # ru_maxrss is only the fallback: Linux carries the forking parent's resident size across exec
        # into it, so it reads at least this script's own size.
        if rss_live is not None:
            result["peak_rss_mib"] = rss_live
        elif usage is not None:
            result["peak_rss_mib"] = usage.ru_maxrss / 1024
        if usage is not None:
            result["cpu_total_s"] = usage.ru_utime + usage.ru_stime
        terminal = sum(c for (a, s), c in states.items() if s in TERMINAL)
        result.update(finished=done, wall_s=wall, terminal=terminal, states={f"{a}/{s}": c for (a, s), c in sorted(states.items())},
                      mlsim_cpu_s=mlsim_cpu)
        if exited_early:
            result["error"] = f"refit run exited early with status {refit.returncode}; see {stderr.name}"
            keep = True
        if done:
            result["cpu_s"] = cpu
            if split:
                result["cpu_user_s"], result["cpu_system_s"] = split
            result["cpu_ms_per_slice"] = cpu * 1000 / n
            result["wall_ms_per_slice"] = wall * 1000 / n
            result["slices_per_s"] = n / wall
            result["sanity"] = chain_sanity(emulator, db, n, hours)
            if after is not None:
                result["after"] = after(bin_dir, schedules, db, env)
        else:
            result["timeout_s"] = timeout
        return result
    finally:
        if refit is not None:
            stop_group(refit)
        if emulator is not None:
            emulator.stop()
        if keep or os.environ.get("BENCH_KEEP"):
            log(f"bench_chain: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def chain_sanity(emulator, db, n, hours):
    """One line: every retrain window Ready, every update Ready or Skipped/Superseded (a newer model was
    already deployed), one submit per retrain window, the last window's model serving."""
    problems = []
    rows = query(db, "SELECT activity, state, COALESCE(substate, ''), COUNT(*) FROM windows WHERE pipeline = ?"
                     " GROUP BY 1, 2, 3", (PIPELINE,))
    counts = {(a, s, sub): c for a, s, sub, c in rows}
    unexpected = {k: c for k, c in counts.items()
                  if not (k[1] == "Ready" or (k[0] == UPDATE and k[1] == "Skipped" and k[2] == "Superseded"))}
    if unexpected:
        problems.append("unexpected: " + ", ".join(f"{a}/{s}{'/' + sub if sub else ''}={c}" for (a, s, sub), c in sorted(unexpected.items())))
    retrain_ready = counts.get((RETRAIN, "Ready", ""), 0)
    update_ready = counts.get((UPDATE, "Ready", ""), 0)
    superseded = counts.get((UPDATE, "Skipped", "Superseded"), 0)
    try:
        ops = emulator.operations()
    except Exception as error:  # noqa: BLE001 - a sanity line, never a failure of the bench itself
        return f"WRONG: cannot read the operations log ({error})"
    submits = [o for o in ops if o["op"] == "submit" and o.get("status") == 200]
    patches = [o for o in ops if o["op"] == "patch" and (o.get("status") or 0) // 100 == 2]
    if len(submits) != n:
        problems.append(f"{len(submits)} successful submits for {n} retrain windows")
    last = hours[-1].strftime("%Y%m%d%H")
    model = f"models/{last}/model.ilearner"
    if not patches or patches[-1].get("resourceLocation") != model:
        problems.append(f"last PATCH deployed {patches[-1].get('resourceLocation') if patches else 'nothing'}, not {model}")
    serving = ""
    try:
        trained = json.loads(emulator.blob(model))
        probe = {"x1": 1.0, "x2": 1.0}
        expected = sum(trained["coefficients"][k] * v for k, v in probe.items()) + trained["intercept"]
        scored = emulator.score(probe)
        if abs(scored - expected) > 1e-6 * max(1.0, abs(expected)):
            problems.append(f"'retrain' scores {scored:.6f}, the last model predicts {expected:.6f}")
        else:
            serving = f"; 'retrain' serves {last}'s model (probe {scored:.3f})"
    except Exception as error:  # noqa: BLE001
        problems.append(f"cannot check the serving model ({error})")
    summary = (f"{retrain_ready} retrains Ready, {update_ready} updates Ready + {superseded} Skipped/Superseded,"
               f" {len(submits)} submits, {len(patches)} PATCHes{serving}")
    return ("WRONG: " + "; ".join(problems) + f" ({summary})") if problems else "ok: " + summary


# ---------------------------------------------------------------------------------------------
# latency


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(1, int(-(-p * len(ordered) // 100)))
    return ordered[min(k, len(ordered)) - 1]


def parse_ms(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def run_latency(bin_dir, drops=50, spacing_ms=200, timeout=120, keep=False):
    scratch = tempfile.mkdtemp(prefix="refit-bench-latency-")
    emulator = refit = stderr = None
    result = {"scenario": "latency", "drops": drops, "spacing_ms": spacing_ms}
    try:
        emulator = Emulator(bin_dir, scratch)
        data_dir, schedules, db = os.path.join(scratch, "data"), os.path.join(scratch, "schedules"), os.path.join(scratch, "refit.sqlite")
        staging = os.path.join(scratch, "staging")       # outside the watched tree: files are moved in whole
        os.makedirs(staging)
        end = hour_floor(dt.datetime.now(dt.timezone.utc))
        start = end - dt.timedelta(hours=drops)
        # An hour between polls: only the folder watcher can make a slice Ready during the bench.
        write_schedules(schedules, data_dir, start, end, retry_interval="01:00:00", maximum_retry=10)
        hours = [start + dt.timedelta(hours=i) for i in range(drops)]
        for hour in hours:
            os.makedirs(os.path.dirname(slice_path(data_dir, hour)), exist_ok=True)
        env = emulator.env(db)
        refit_log = os.path.join(scratch, "refit-run.jsonl")
        refit, stderr = start_refit(bin_dir, schedules, db, env, refit_log, extra=("--log-format", "json"))

        # Wait until every slice was checked once (absent): only then does a notification re-check it.
        deadline = time.monotonic() + timeout
        checked = 0
        while time.monotonic() < deadline and refit.poll() is None:
            try:
                con = open_db_ro(db)
                try:
                    checked = con.execute("SELECT COUNT(*) FROM slices WHERE dataset = 'TrainingData' AND check_count >= 1"
                                          " AND state = 'Waiting'").fetchone()[0]
                finally:
                    con.close()
            except sqlite3.Error:
                checked = 0
            if checked >= drops:
                break
            time.sleep(0.1)
        if checked < drops:
            result["error"] = f"only {checked} of {drops} slices were checked within {timeout} s"
            return result
        time.sleep(1.0)     # let the worker settle into its sleep (and the watcher's debounce run out)

        dropped = {}         # window stamp yyyyMMddHH -> drop time, epoch ms
        order = list(range(drops))
        random.Random(7).shuffle(order)
        next_at = time.monotonic()
        for i in order:
            hour = hours[i]
            tmp = os.path.join(staging, f"{i}.csv")
            with open(tmp, "w") as f:
                f.write(slice_csv(i))
            while time.monotonic() < next_at:
                time.sleep(min(0.005, max(0.0, next_at - time.monotonic())))
            dropped[hour.strftime("%Y%m%d%H")] = time.time() * 1000
            os.rename(tmp, slice_path(data_dir, hour))
            next_at += spacing_ms / 1000

        submits = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for o in emulator.operations():
                if o["op"] != "submit" or o.get("status") != 200:
                    continue
                m = re.search(r"/(\d{10})\d{4}/", o.get("resourceLocation") or "")   # .../<yyyyMMddHHmmss>/input1/...
                if m and m.group(1) in dropped and m.group(1) not in submits:
                    submits[m.group(1)] = o.get("atMs")
            if len(submits) >= drops:
                break
            time.sleep(0.2)
        if any(v is None for v in submits.values()):
            result["error"] = "the emulator's operations log has no atMs (millisecond) times; rebuild refit-mlsim"
            return result
        latencies = [submits[s] - dropped[s] for s in submits]
        result["submitted"] = len(submits)
        if latencies:
            result.update(p50_ms=percentile(latencies, 50), p99_ms=percentile(latencies, 99),
                          min_ms=min(latencies), max_ms=max(latencies), mean_ms=statistics.fmean(latencies))
        result.update(refit_breakdown(refit_log, dropped, submits))
        return result
    finally:
        if refit is not None:
            stop_group(refit)
        if stderr is not None:
            stderr.close()
        if emulator is not None:
            emulator.stop()
        if keep or os.environ.get("BENCH_KEEP"):
            log(f"bench_chain: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def refit_breakdown(path, dropped, submits):
    """Medians from refit's JSON log: landing -> "external slice Ready", -> retrain "attempt started"."""
    ready, started = {}, {}
    try:
        with open(path) as f:
            for line in f:
                try:
                    # first value wins: metadata named "message" repeats the key after the log message
                    entry = json.loads(line, object_pairs_hook=lambda pairs: {k: v for k, v in reversed(pairs)})
                except ValueError:
                    continue
                message = entry.get("message", "")
                if message == "external slice Ready" and entry.get("slice"):
                    ready.setdefault(re.sub(r"\D", "", entry["slice"])[:10], parse_ms(entry["at"]))
                elif message == "attempt started" and entry.get("activity") == RETRAIN:
                    window = next((entry[k] for k in ("window", "windowStart", "window_start") if entry.get(k)), None)
                    if window:
                        started.setdefault(re.sub(r"\D", "", window)[:10], parse_ms(entry["at"]))
    except OSError:
        return {}
    out = {}
    to_ready = [ready[s] - dropped[s] for s in dropped if s in ready]
    to_start = [started[s] - ready[s] for s in dropped if s in started and s in ready]
    to_submit = [submits[s] - started[s] for s in dropped if s in started and submits.get(s) is not None]
    if to_ready:
        out["landing_to_slice_ready_p50_ms"] = statistics.median(to_ready)
    if to_start:
        out["slice_ready_to_attempt_p50_ms"] = statistics.median(to_start)
    if to_submit:
        out["attempt_to_submit_p50_ms"] = statistics.median(to_submit)
    return out


# ---------------------------------------------------------------------------------------------


def fmt_chain(r):
    n = r["n"]
    if r.get("store") == "postgres":
        return fmt_chain(dict(r, store=None)).replace(f"chain-{n:<5}", f"chain-{n}-pg", 1)
    if r.get("error"):
        return f"chain-{n:<5}  ERROR: {r['error']}"
    if not r["finished"]:
        return (f"chain-{n:<5}  did not finish within {r['timeout_s']:.0f} s ({r['terminal']} of {2 * n} windows terminal;"
                f" {', '.join(f'{k}={v}' for k, v in r['states'].items())})")
    rss = r.get("peak_rss_mib")
    return (f"chain-{n:<5}  wall {r['wall_s']:7.2f} s  {r['wall_ms_per_slice']:6.2f} ms/slice  "
            f"refit CPU {r['cpu_s']:6.2f} s = {r['cpu_ms_per_slice']:5.2f} ms/slice (goal <= {GOAL_CPU_MS_PER_SLICE:g})  "
            f"peak RSS {rss:5.1f} MiB (goal <= {GOAL_RSS_MIB:g})  emulator CPU {r['mlsim_cpu_s']:.1f} s")


def fmt_latency(r):
    if r.get("error"):
        return f"latency      ERROR: {r['error']}"
    line = (f"latency      {r['submitted']} of {r['drops']} drops ({r['spacing_ms']} ms apart) -> BES submit: "
            f"p50 {r['p50_ms']:.0f} ms (goal <= {GOAL_P50_MS:g}), p99 {r['p99_ms']:.0f} ms (goal <= {GOAL_P99_MS:g}), "
            f"min {r['min_ms']:.0f}, max {r['max_ms']:.0f}")
    parts = [(k, v) for k, v in r.items() if k.endswith("_p50_ms") and k not in ("p50_ms",)]
    if parts:
        line += "\n             refit's log, medians: " + ", ".join(f"{k[:-7].replace('_', ' ')} {v:.0f} ms" for k, v in parts)
    return line


def scaling_lines(results):
    base = next((r for r in results if r["n"] == 720 and r.get("finished")), None)
    lines = []
    if base is None:
        return lines
    for r in results:
        if r["n"] > 720 and r.get("finished"):
            ratio = r["wall_ms_per_slice"] / base["wall_ms_per_slice"]
            lines.append(f"chain-{r['n']:<5}  per-slice wall {ratio:.2f}x chain-720's (goal <= {GOAL_SCALING:g}x)")
        elif r["n"] > 720 and not r.get("error"):
            lines.append(f"chain-{r['n']:<5}  per-slice wall > {r['timeout_s'] * 1000 / r['n'] / base['wall_ms_per_slice']:.2f}x"
                         f" chain-720's (goal <= {GOAL_SCALING:g}x)")
    return lines


def sizes_from(text):
    if text.strip().lower() in ("", "none", "0"):
        return []
    return [int(s) for s in text.split(",") if s.strip()]


ORDER_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "refit.order")
HOT_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "refit-hot.ld")


def function_symbols(binary):
    """How many times each function name is defined in the binary's symbol table (`nm`)."""
    out = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    return collections.Counter(parts[2] for parts in (line.split() for line in out.splitlines())
                               if len(parts) == 3 and parts[1] in "tTwW")


def order_file_coverage(binary, order_file=ORDER_FILE):
    """How many of scripts/refit.order's functions the binary still defines (decision record 32):
    (defined, listed), or None without `nm` or the list."""
    try:
        with open(order_file) as f:
            listed = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        defined = function_symbols(binary)
    except (OSError, subprocess.CalledProcessError):
        return None
    return len(listed & defined.keys()), len(listed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", help="folder of the release binaries (default: swift build -c release --show-bin-path)")
    parser.add_argument("--sizes", default=setting("BENCH_CHAIN_SIZES", "720,2880,8760"),
                        help="chain sizes N, comma separated; 'none' skips the chain ($BENCH_CHAIN_SIZES)")
    parser.add_argument("--timeout", type=float, default=float(setting("BENCH_CHAIN_TIMEOUT", "900")),
                        help="seconds each chain run may take ($BENCH_CHAIN_TIMEOUT, default 900)")
    parser.add_argument("--latency-drops", type=int, default=int(setting("BENCH_LATENCY_DROPS", "50")),
                        help="slice files dropped in the latency scenario; 0 skips it ($BENCH_LATENCY_DROPS)")
    parser.add_argument("--latency-spacing-ms", type=int, default=int(setting("BENCH_LATENCY_SPACING_MS", "200")),
                        help="milliseconds between drops ($BENCH_LATENCY_SPACING_MS, default 200)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders (also $BENCH_KEEP=1)")
    parser.add_argument("--postgres", default=setting("BENCH_POSTGRES", None),
                        help="run the chain on PostgreSQL: a superuser's postgres:// URL; each run gets a database of its own "
                             "($BENCH_POSTGRES; e.g. from scripts/pg-test-server.sh)")
    args = parser.parse_args()
    # Absolute: the chain runs refit from its scratch folder.
    bin_dir = os.path.abspath(args.bin) if args.bin else release_bin()
    for name in ("refit", "refit-mlsim"):
        if not os.access(os.path.join(bin_dir, name), os.X_OK):
            sys.exit(f"bench_chain: {bin_dir}/{name} is missing; build with `swift build -c release`")

    results = []
    sizes = sizes_from(args.sizes)
    coverage = order_file_coverage(os.path.join(bin_dir, "refit"))
    if args.format == "table" and coverage:
        print(f"\nrelease layout: {coverage[0]} of the {coverage[1]} functions in scripts/refit.order are defined in refit "
              f"({100 * coverage[0] / max(coverage[1], 1):.0f}%; regenerate with `make order-file` when this falls)", flush=True)
    if args.format == "table" and sizes:
        print(f"\nchain: N hourly slices retrain -> update through refit-mlsim --job-duration 0 (release; "
              f"retrain concurrency 4, update 1; cap {args.timeout:.0f} s each)", flush=True)
    for n in sizes:
        r = run_chain(bin_dir, n, args.timeout, keep=args.keep, postgres=args.postgres)
        results.append(r)
        if args.format == "table":
            print(fmt_chain(r), flush=True)
            if r.get("sanity"):
                print(f"             sanity {r['sanity']}", flush=True)
    if args.format == "table":
        for line in scaling_lines(results):
            print(line, flush=True)
    if args.latency_drops > 0:
        r = run_latency(bin_dir, args.latency_drops, args.latency_spacing_ms, keep=args.keep)
        results.append(r)
        if args.format == "table":
            print(fmt_latency(r), flush=True)
    if args.format == "json":
        print(json.dumps(results, indent=2))


def exit_on_sigterm():
    """SIGTERM (make interrupted, a CI timeout) unwinds like Ctrl-C, so the finally blocks stop our processes."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


if __name__ == "__main__":
    exit_on_sigterm()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
