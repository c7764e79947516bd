#!/usr/bin/env python3
"""make soak: proof at scale — SIGKILLs at seeded random moments while 2–3 `refit run` workers share
one database, against a `refit-mlsim` that faults about 30% of its calls, with storage trouble.

The run is cut into rounds; each round has its own scratch schedules folder (the example pipeline
cut to a few dozen hourly windows, short policy timeout, room in the retry budget), database and
emulator. During a round a random live worker is SIGKILLed every 0.3–1 s (seeded) and restarted at
once; a fraction of kills land inside an effect/journal gap (the emulator's `hold` fault keeps the
answer to a submit, start or PATCH back while every worker is killed). Between kills the faults are
re-drawn: each operation gets a rate plan (500, 503 or 429 with Retry-After, latency, dropped
connection, malformed body; slow job status past the timeout; 403 on blob calls when the emulator
supports it), sometimes failed jobs. Slices are written late (missing files and folders) and some
are removed between probe and run, then restored.

Cheap invariants are checked after every kill (read-only SQLite), all of them at the end of each
round after the workers converged with no faults. Prints one figure line; every violation (first
20) goes to stderr and the exit status is 1. Python 3 standard library only.

    python3 scripts/soak.py [--kills N] [--seed S] [--minutes M] [--workers 2|3]
"""
import argparse, datetime as dt, json, math, os, random, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time
import urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIPELINE = "RetrainPipeline"
RETRAIN, UPDATE = "Retrain", "UpdateScoringEndpoint"
RETRAIN_RETRY, UPDATE_RETRY = 6, 6          # budgets: 1 + retry attempts
FAULT_RATE = 0.30
OPS = ["submit", "start", "status", "delete", "patch", "blob", "list", "management"]
LOG_SLACK = 0.25
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Violations:
    def __init__(self):
        self.items = []

    def add(self, text):
        if text not in self.items:
            self.items.append(text)

    def __len__(self):
        return len(self.items)


# ---------------------------------------------------------------------------------------------
# Processes


class Worker:
    """One `refit run` process; its JSON log goes to a file so attempts are known after a SIGKILL."""

    def __init__(self, round_, slot):
        self.round, self.slot = round_, slot
        self.log = os.path.join(round_.dir, "logs", f"w{slot}-{len(round_.workers)}.log")
        self.killed_at = None
        self.stopped_at = None
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [round_.soak.refit, "run", "--schedules", round_.schedules, "--db", round_.db, "--log-format", "json",
                 "--lease-seconds", "3", "--max-parallel", "2"],
                cwd=round_.dir, env=round_.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)
        round_.workers.append(self)

    def alive(self):
        return self.proc.poll() is None

    def kill9(self):
        self.killed_at = time.time()      # before the signal: the attempt ran at least until then
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)

    def stop(self, grace=20):
        """SIGTERM, SIGKILL after `grace` s; returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            status = self.proc.wait(timeout=30)
        self.stopped_at = time.time()
        return status

    def attempts(self):
        """runId -> (activity, window, started, finished or None) from the log."""
        found = {}
        try:
            with open(self.log, errors="replace") as f:
                for line in f:
                    if not line.startswith("{"):
                        continue
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue        # a line cut by SIGKILL
                    run, message = entry.get("runId"), entry.get("message")
                    if not run or message not in ("attempt started", "attempt finished"):
                        continue
                    at = parse_time(entry["at"])
                    if message == "attempt started":
                        found[run] = [entry.get("activity", ""), entry.get("window", ""), at, None]
                    elif run in found:
                        found[run][3] = at
        except FileNotFoundError:
            pass
        return found


class Emulator:
    def __init__(self, soak, folder, seed):
        self.log = open(os.path.join(folder, "mlsim.log"), "w")
        self.proc = subprocess.Popen([soak.mlsim, "--port", "0", "--job-duration", "0.3", "--seed", str(seed)],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("soak: refit-mlsim exited before printing its JSON line")
        self.info = json.loads(line)
        self.supports_403 = None

    def admin(self, method, name, body=None):
        request = urllib.request.Request(self.info["adminURL"] + "/" + name, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Authorization", "Bearer " + self.info["managementToken"])
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def set_faults(self, body):
        self.admin("POST", "faults", body)

    def clear_faults(self):
        self.admin("DELETE", "faults")

    def operations(self):
        return json.loads(self.admin("GET", "operations"))

    def endpoint(self, name):
        return next(e for e in self.info["predictive"]["endpoints"] if e["name"] == name)

    def serving(self, name="retrain"):
        """The RelativeLocation the endpoint's trained model points at."""
        e = self.endpoint(name)
        request = urllib.request.Request(e["managementURL"])
        request.add_header("Authorization", "Bearer " + e["apiKey"])
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        return ((body.get("Resources") or [{}])[0].get("Location") or {}).get("RelativeLocation")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()


# ---------------------------------------------------------------------------------------------
# One round: scratch folder, database, emulator, workers


class Round:
    def __init__(self, soak, index, hours):
        self.soak, self.index, self.hours = soak, index, hours
        self.rng = random.Random(f"{soak.seed}/{index}")
        self.dir = os.path.join(soak.base, f"round-{index:02d}")
        self.schedules = os.path.join(self.dir, "schedules")
        self.db = os.path.join(self.dir, "refit.sqlite")
        self.data = os.path.join(self.schedules, "data")
        self.workers = []
        self.kills = 0
        self.pending = []          # (due time, action) storage events
        self.removed = set()       # hours whose file is currently removed (probe-then-run trouble)
        self.late = set()
        self.hold_tries = 0
        os.makedirs(os.path.join(self.dir, "logs"))
        shutil.copytree(os.path.join(ROOT, "schedules"), self.schedules)
        self.write_definitions()
        self.emulator = Emulator(soak, self.dir, soak.seed * 1000 + index)
        info = self.emulator.info
        retrain = self.emulator.endpoint("retrain")
        self.env = dict(os.environ,
                        REFIT_DEMO_STORAGE_CONNECTION_STRING=info["storage"]["connectionString"],
                        REFIT_DEMO_TRAINING_JOBS_URL=info["training"]["jobsURL"],
                        REFIT_DEMO_TRAINING_API_KEY=info["training"]["apiKey"],
                        REFIT_DEMO_SCORING_JOBS_URL=retrain["executeURL"].split("?")[0].rsplit("/", 1)[0] + "/jobs",
                        REFIT_DEMO_SCORING_API_KEY=retrain["apiKey"],
                        REFIT_DEMO_SCORING_MANAGEMENT_URL=retrain["managementURL"])
        self.env.pop("REFIT_DB", None)
        self.write_slices()

    # -- definitions and data

    def write_definitions(self):
        def edit(path, pairs):
            full = os.path.join(self.schedules, path)
            with open(full) as f:
                text = f.read()
            for old, new in pairs:
                if old not in text:
                    raise SystemExit(f"soak: {path} no longer contains {old!r}; update scripts/soak.py")
                text = text.replace(old, new)
            with open(full, "w") as f:
                f.write(text)
        end = T0 + dt.timedelta(hours=self.hours)
        edit("pipelines/retrain-pipeline.json", [
            ('"end": "2026-01-02T00:00:00Z"', f'"end": "{iso(end)}"'),
            ('"retry": 2,', f'"retry": {RETRAIN_RETRY},'), ('"retry": 3,', f'"retry": {UPDATE_RETRY},'),
            ('"timeout": "00:10:00"', '"timeout": "00:00:08"'),     # slow jobs (status latency 9 s) time out
        ])
        edit("datasets/training-data.json", [
            ('"retryInterval": "00:01:00"', '"retryInterval": "00:00:01"'),
            ('"retryTimeout": "00:10:00"', '"retryTimeout": "01:00:00"'),
            ('"maximumRetry": 3', '"maximumRetry": 10'),          # the most ADF allows: 10 checks, 1 s apart
        ])
        with open(os.path.join(self.schedules, "linked-services", "demo-files.json"), "w") as f:
            f.write('{"name": "DemoFiles", "properties": {"type": "OnPremisesFileServer", "typeProperties": {"host": "data"}}}\n')

    def extend(self, more):
        """Re-seeds work: `more` new hourly windows (their data written) and the pipeline's end moved."""
        path = os.path.join(self.schedules, "pipelines", "retrain-pipeline.json")
        with open(path) as f:
            text = f.read()
        old = f'"end": "{iso(T0 + dt.timedelta(hours=self.hours))}"'
        for hour in range(self.hours, self.hours + more):
            self.write_slice(hour)
        self.hours += more
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text.replace(old, f'"end": "{iso(T0 + dt.timedelta(hours=self.hours))}"'))
        os.replace(tmp, path)
        # No SIGHUP: one sent before a fresh worker installs its handler would end it. Every worker
        # is killed and restarted within seconds, and a restarted one reads the new end.
        self.soak.stats["extended"] += more

    def slice_path(self, hour):
        t = T0 + dt.timedelta(hours=hour)
        return os.path.join(self.data, "training", t.strftime("%Y"), t.strftime("%m"), t.strftime("%d"), t.strftime("%H.csv"))

    def write_slice(self, hour):
        path = self.slice_path(hour)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        rows = ["x1,x2,y"] + [f"{r},{(r * 7) % 11},{2.0 * r - 0.5 * ((r * 7) % 11) + 3.0 + hour}" for r in range(20)]
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(rows) + "\n")
        os.replace(tmp, path)

    def write_slices(self):
        rng = self.rng
        late = {h for h in range(self.hours) if rng.random() < 0.10}
        if self.hours > 24 and rng.random() < 0.5:
            late |= set(range(24, self.hours))   # the second day's folder is missing at first
        self.late = late
        for hour in range(self.hours):
            if hour not in late:
                self.write_slice(hour)
        for hour in sorted(late):
            self.pending.append((time.time() + rng.uniform(0.5, 5), ("write", hour)))

    def storage_events(self, now):
        due = [p for p in self.pending if p[0] <= now]
        self.pending = [p for p in self.pending if p[0] > now]
        for _, (kind, hour) in due:
            if kind in ("write", "restore"):
                self.write_slice(hour)
                self.removed.discard(hour)
                self.soak.stats["storage"] += 1
        # Data removed between probe and run: a slice already probed Ready whose window has not run yet.
        if self.rng.random() < 0.08:
            ready = self.query("""SELECT s.slice_start FROM slices s JOIN windows w ON w.window_start = s.slice_start
                                  WHERE s.dataset = 'TrainingData' AND s.state = 'Ready' AND w.activity = ?
                                  AND w.state = 'Waiting'""", (RETRAIN,))
            candidates = [r[0] for r in ready or []]
            if candidates:
                start = self.rng.choice(candidates)
                hour = int((parse_time(start) - T0.timestamp()) // 3600)
                if hour not in self.removed and os.path.exists(self.slice_path(hour)):
                    os.remove(self.slice_path(hour))
                    self.removed.add(hour)
                    self.pending.append((now + self.rng.uniform(0.5, 3), ("restore", hour)))
                    self.soak.stats["storage"] += 1

    def restore_all(self):
        for _, (kind, hour) in self.pending:
            self.write_slice(hour)
        self.pending = []
        self.removed = set()

    # -- faults

    def random_faults(self):
        rng = self.rng
        plans = []
        for op in OPS:
            kinds = ["500", "503", "429", "latency", "drop", "malformed"]
            if op == "patch":
                # The emulator's `malformed` answers 200 *without* applying the call; a 200 to a PATCH
                # means applied (Refit, like ADF, does not read its body), so it would fake a deployment.
                kinds.remove("malformed")
            if op == "status":
                kinds.append("slow")
            if op == "blob" and self.emulator.supports_403:
                kinds.append("403")
            kind = rng.choice(kinds)
            plan = {"operation": op, "rate": FAULT_RATE}
            if kind in ("500", "503", "429", "403"):
                plan["status"] = int(kind)
                if kind in ("503", "429"):
                    plan["retryAfter"] = 1
            elif kind == "latency":
                plan["latencyMs"] = rng.randint(100, 1500)
            elif kind == "slow":
                plan["latencyMs"] = 9000      # past the 8 s policy.timeout
                plan["rate"] = 0.05
            else:
                plan[kind] = True
            plans.append(plan)
        body = {"plans": plans}
        if rng.random() < 0.15:
            body["failJobs"] = 1
        return body

    def probe_403(self):
        try:
            self.emulator.set_faults({"plans": [{"operation": "blob", "status": 403, "count": 0}]})
            self.emulator.supports_403 = True
        except urllib.error.HTTPError:
            self.emulator.supports_403 = False
        self.emulator.clear_faults()

    # -- database (read-only)

    def query(self, sql, params=()):
        if not os.path.exists(self.db):
            return None
        for _ in range(20):
            try:
                c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
                try:
                    return c.execute(sql, params).fetchall()
                finally:
                    c.close()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return None
                time.sleep(0.05)
        return None

    def snapshot(self):
        """Windows and runs read in one read transaction (a consistent snapshot), or (None, None)."""
        if not os.path.exists(self.db):
            return None, None
        for _ in range(20):
            try:
                c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5, isolation_level=None)
                try:
                    c.execute("BEGIN")
                    windows = c.execute("""SELECT id, activity, window_start, state, substate, attempts FROM windows
                                           WHERE pipeline = ?""", (PIPELINE,)).fetchall()
                    runs = c.execute("""SELECT run_id, window_id, attempt, status, error_class, error_message,
                                        external_job_id, started_at, ended_at, worker_id FROM runs
                                        ORDER BY window_id, rowid""").fetchall()
                    c.execute("COMMIT")
                    return windows, runs
                finally:
                    c.close()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return None, None
                time.sleep(0.05)
        return None, None

    # -- workers

    def start_workers(self):
        for slot in range(self.soak.worker_count):
            Worker(self, slot)

    def live(self):
        return [w for w in self.workers if w.alive() and w.killed_at is None and w.stopped_at is None]

    def kill_and_restart(self, worker):
        worker.kill9()
        self.kills += 1
        self.soak.kills += 1
        Worker(self, worker.slot)


# ---------------------------------------------------------------------------------------------
# Invariants


def budget(activity):
    return 1 + (RETRAIN_RETRY if activity == RETRAIN else UPDATE_RETRY)


def check_db(rnd, v, final):
    """Invariants from the database; cheap enough for every kill, complete when `final`."""
    snap = rnd.snapshot()
    if snap[0] is None or snap[1] is None:
        if final:
            v.add(f"round {rnd.index}: no database tables")
        return None
    windows, runs = snap
    by_window = {}
    for r in runs:
        by_window.setdefault(r[1], []).append(r)
    tag = f"round {rnd.index}"
    for wid, activity, start, state, substate, attempts in windows:
        rows = by_window.get(wid, [])
        open_runs = [r for r in rows if r[3] == "InProgress"]
        if len(open_runs) > 1:
            v.add(f"{tag}: {activity} {start} has {len(open_runs)} open attempts at once: {[r[0] for r in open_runs]}")
        if attempts > budget(activity):
            v.add(f"{tag}: {activity} {start} used {attempts} attempts, budget {budget(activity)}")
        uncharged = [r for r in rows if (r[4] == "crash" and r[5] and "not charged" in r[5]) or r[4] == "interrupted"]
        charged = len(rows) - len(uncharged)
        if state != "InProgress" and not open_runs and attempts != charged:
            v.add(f"{tag}: {activity} {start} counts {attempts} attempts but history charges {charged} "
                  f"({len(rows)} runs, {len(uncharged)} not charged)")
        jobs = {}
        for r in rows:
            if r[4] == "crash" and r[5] and "not charged" in r[5]:
                jobs[r[6]] = jobs.get(r[6], 0) + 1
        for a, b in zip(rows, rows[1:]):
            if a[8] is None or a[8] > b[7]:
                v.add(f"{tag}: {activity} {start}: attempt {a[0]} ({a[7]}..{a[8] or 'open'}) overlaps the next, "
                      f"{b[0]} from {b[7]}")
        for job, n in jobs.items():
            if n > 1:
                v.add(f"{tag}: {activity} {start}: lost attempts on job {job} were given back {n} times (once per job)")
        if state == "Failed":
            last = rows[-1] if rows else None
            terminal = last is not None and last[4] == "terminal"
            if attempts < budget(activity) and not (terminal and rnd.soak.allow_terminal):
                v.add(f"{tag}: {activity} {start} Failed after {attempts} of {budget(activity)} attempts "
                      f"(run {last[0] if last else '-'}: {last[4] if last else '-'}: {last[5] if last else ''})")
            if final and attempts < budget(activity) and terminal:
                rnd.soak.stats["terminal"] += 1
        if state == "Ready" and (not rows or rows[-1][3] != "Succeeded"):
            v.add(f"{tag}: {activity} {start} Ready but its last attempt is {rows[-1][3] if rows else 'missing'}")
        if state == "InProgress" and len(open_runs) != 1:
            v.add(f"{tag}: {activity} {start} InProgress with {len(open_runs)} open attempts")
    return windows, runs


def failed_slices(rnd):
    """Training slices Failed (their data came later than the checks allowed: TimedOut)."""
    return {r[0] for r in rnd.query("SELECT slice_start FROM slices WHERE dataset = 'TrainingData' AND state = 'Failed'") or []}


def blocked(activity, start, state, failed_inputs):
    """A window that waits forever by policy: its input slice Failed (late data, TimedOut), or its
    model was never trained (Retrain Failed) — it waits on DatasetDependencies, as ADF's do."""
    if state.get((activity, start)) != "Waiting":
        return False
    if activity == RETRAIN:
        return start in failed_inputs
    return state.get((RETRAIN, start)) == "Failed" or blocked(RETRAIN, start, state, failed_inputs)


def converged(windows, failed_inputs):
    if not windows:
        return False
    state = {(w[1], w[2]): w[3] for w in windows}
    for (activity, start), s in state.items():
        if s in ("Ready", "Skipped", "Failed") or blocked(activity, start, state, failed_inputs):
            continue
        return False
    return True


def window_stamp(text, hours):
    """The hour index of the yyyyMMddHH stamp of one of this round's windows found in `text`."""
    for m in re.finditer(r"(?<!\d)(20\d{8})(?:\d{4})?(?!\d)", text or ""):
        try:
            t = dt.datetime.strptime(m.group(1), "%Y%m%d%H").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
        hour = int((t - T0).total_seconds() // 3600)
        if 0 <= hour < hours:
            return hour
    return None


def final_checks(rnd, v):
    tag = f"round {rnd.index}"
    result = check_db(rnd, v, final=True)
    if result is None:
        return 0, 0
    windows, runs = result
    if len(windows) != 2 * rnd.hours:
        v.add(f"{tag}: {len(windows)} windows, expected {2 * rnd.hours}")
    state = {(w[1], w[2]): w for w in windows}
    states = {k: w[3] for k, w in state.items()}
    wid_key = {w[0]: (w[1], w[2]) for w in windows}
    failed_inputs = failed_slices(rnd)
    for start in sorted(failed_inputs):
        hour = int((parse_time(start) - T0.timestamp()) // 3600)
        if hour not in rnd.late:
            v.add(f"{tag}: training slice {start} Failed though its data was there from the start")
        rnd.soak.stats["timedout"] += 1
    for (activity, start), w in sorted(state.items()):
        s, sub = w[3], w[4]
        ok = s == "Ready" or s == "Failed" or (s == "Skipped" and sub == "Superseded" and activity == UPDATE)
        ok = ok or blocked(activity, start, states, failed_inputs)
        if not ok:
            v.add(f"{tag}: lost window {activity} {start}: {s}/{sub}")
    if any(r[3] == "InProgress" for r in runs):
        v.add(f"{tag}: open attempts remain: {[r[0] for r in runs if r[3] == 'InProgress']}")

    # Every attempt a worker logged is in history, once; per window, attempts never overlap in time.
    run_ids = {r[0] for r in runs}
    intervals = {}
    logged = {}
    run_row = {r[0]: r for r in runs}
    for w in rnd.workers:
        end_of_life = w.killed_at or w.stopped_at or time.time()
        for run, (activity, window, started, finished) in w.attempts().items():
            logged.setdefault(run, []).append(w.log)
            end = finished
            if end is None:
                # Killed before it logged the end. Lost with its worker (crash): it ended when the
                # worker died. Finished in the database just before the kill: by then at the latest
                # (whole seconds there, so rounded down: an overlap flagged is a real one).
                row = run_row.get(run)
                end = end_of_life
                if row and row[8] and row[4] not in ("crash", "interrupted"):
                    end = min(end, parse_time(row[8]))
            intervals.setdefault((activity, window), []).append((started, end, os.path.basename(w.log), run))
    for run, logs in logged.items():
        if run not in run_ids:
            v.add(f"{tag}: attempt {run} logged by {logs} is missing from history")
        if len(logs) > 1:
            v.add(f"{tag}: attempt {run} logged by two workers: {logs}")
    # A log line follows its commit (a finish is logged just after the next claim may have committed),
    # so the logs are compared within LOG_SLACK; the database check above is exact to the second.
    for key, items in intervals.items():
        items.sort()
        for a, b in zip(items, items[1:]):
            if a[1] > b[0] + LOG_SLACK:
                v.add(f"{tag}: {key[0]} {key[1]}: {a[2]}'s attempt {a[3]} (until {a[1]:.3f}) overlaps "
                      f"{b[2]}'s attempt {b[3]} (from {b[0]:.3f})")

    ops = rnd.emulator.operations()
    with open(os.path.join(rnd.dir, "operations.json"), "w") as f:     # evidence, kept with a failing round
        json.dump(ops, f, indent=0)
    # Submits: per window, effective submits (the job was created) <= attempts that did not resume a journaled job.
    effective_ok = (None, "latency", "hold")
    submits = [o for o in ops if o["op"] == "submit" and o.get("fault") in effective_ok and (o.get("status") or 0) < 300]
    retrain_runs = {}
    for r in runs:
        if wid_key.get(r[1], ("", ""))[0] == RETRAIN:
            retrain_runs.setdefault(wid_key[r[1]][1], []).append(r)
    total_retrain = sum(len(x) for x in retrain_runs.values())
    if len(submits) > total_retrain:
        v.add(f"{tag}: {len(submits)} submits > {total_retrain} Retrain attempts")
    per_hour = {}
    for o in submits:
        hour = window_stamp(o.get("resourceLocation"), rnd.hours)
        if hour is None:
            v.add(f"{tag}: submit of {o.get('resourceLocation')} names no window")
            continue
        per_hour[hour] = per_hour.get(hour, 0) + 1
    for hour, n in per_hour.items():
        rows = retrain_runs.get(iso(T0 + dt.timedelta(hours=hour)), [])
        fresh, previous_job = 0, None
        for r in rows:
            if r[6] is None or r[6] != previous_job:
                fresh += 1
            previous_job = r[6] if r[6] is not None else previous_job
        if n > fresh:
            v.add(f"{tag}: Retrain {iso(T0 + dt.timedelta(hours=hour))}: {n} jobs submitted for {len(rows)} attempts, "
                  f"{fresh} of which did not resume a journaled job")
    # A lost attempt given back for its job: the next attempt resumes that very job.
    for start, rows in retrain_runs.items():
        for a, b in zip(rows, rows[1:]):
            if a[4] == "crash" and a[5] and "not charged" in a[5] and b[6] not in (a[6], None):
                v.add(f"{tag}: Retrain {start}: attempt {a[0]} was given back for job {a[6]}, "
                      f"but the next attempt {b[0]} has job {b[6]}")

    # Deployments: effective PATCHes only move forward, at most one per window; the newest deployed window serves.
    serving, effective = None, []
    for o in ops:
        if o["op"] != "patch" or o.get("fault") not in effective_ok or not (200 <= (o.get("status") or 0) < 300):
            continue
        if o.get("resourceLocation") == serving:
            continue
        serving = o.get("resourceLocation")
        hour = window_stamp(serving, rnd.hours)
        if hour is None:
            v.add(f"{tag}: patched model {serving} names no window")
            continue
        effective.append(hour)
    if effective != sorted(effective) or len(set(effective)) != len(effective):
        v.add(f"{tag}: deployments went backwards or repeated a window: hours {effective}")
    deployed = [int((parse_time(s) - T0.timestamp()) // 3600) for (a, s), w in state.items() if a == UPDATE and w[3] == "Ready"]
    newest = max(deployed) if deployed else None
    now_serving = window_stamp(rnd.emulator.serving(), rnd.hours)
    if newest is not None and now_serving != newest:
        v.add(f"{tag}: the endpoint serves hour {now_serving}, the newest deployed window is hour {newest}; "
              f"deployments by hour: {effective}")
    if newest is not None and effective and effective[-1] != newest:
        v.add(f"{tag}: the last effective deployment is hour {effective[-1]}, the newest deployed window hour {newest}")
    db_deploys = rnd.query("SELECT model_window_start FROM deployments ORDER BY id") or []
    starts = [d[0] for d in db_deploys]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        v.add(f"{tag}: the deployments table goes backwards or repeats: {starts}")

    audit = subprocess.run([rnd.soak.refit, "audit", "verify", "--db", rnd.db], capture_output=True, text=True, env=rnd.env)
    if audit.returncode != 0:
        v.add(f"{tag}: refit audit verify exited {audit.returncode}: {audit.stdout.strip()[-300:]} {audit.stderr.strip()[-300:]}")
    history = subprocess.run([rnd.soak.refit, "history", "--db", rnd.db, "--format", "json"], capture_output=True, text=True,
                             env=rnd.env)
    if history.returncode != 0:
        v.add(f"{tag}: refit history exited {history.returncode}: {history.stderr.strip()[-300:]}")
    else:
        listed = {h["runId"] for h in json.loads(history.stdout)}
        if not set(logged).issubset(listed):
            v.add(f"{tag}: refit history lacks logged attempts {sorted(set(logged) - listed)[:5]}")
    failed = [f"{a} {s}" for (a, s), w in sorted(state.items()) if w[3] == "Failed"]
    rnd.soak.stats["failed"] += len(failed)
    rnd.soak.stats["calls"] += len([o for o in ops if not o["op"].startswith("admin")])
    rnd.soak.stats["faulted"] += len([o for o in ops if o.get("fault") and o["fault"] != "hold"])
    return len(windows), len(runs)


# ---------------------------------------------------------------------------------------------
# The soak


class Soak:
    def __init__(self, args):
        self.seed, self.worker_count = args.seed, args.workers
        bindir = args.bin_dir or os.path.join(ROOT, ".build", "debug")
        self.refit, self.mlsim = os.path.join(bindir, "refit"), os.path.join(bindir, "refit-mlsim")
        for b in (self.refit, self.mlsim):
            if not os.access(b, os.X_OK):
                raise SystemExit(f"soak: {b} is missing; build it with `swift build` (or `make soak`)")
        self.base = tempfile.mkdtemp(prefix="refit-soak-")
        self.kills = 0
        self.stats = {"calls": 0, "faulted": 0, "storage": 0, "failed": 0, "held": 0, "windows": 0, "attempts": 0,
                      "timedout": 0, "terminal": 0, "extended": 0}
        self.allow_terminal = args.allow_terminal


def run_round(soak, rnd, quota, deadline, v, verbose):
    rng = rnd.rng
    rnd.probe_403()
    rnd.start_workers()
    try:
        faults = rnd.random_faults()
        rnd.emulator.set_faults(faults)
        overhead = 0.3             # seconds a cycle spends besides its sleep (kill, restart, checks), measured
        while rnd.kills < quota and time.time() < deadline:
            now = time.time()
            rnd.storage_events(now)
            # Keep work flowing so kills land on busy workers: fewer than 6 unfinished windows → 6 more hours.
            snap = rnd.snapshot()
            if snap[0] is not None and rnd.hours < 240:
                open_windows = [w for w in snap[0] if w[3] in ("Waiting", "InProgress")
                                and not (w[1] == UPDATE and w[3] == "Waiting")]
                if len(open_windows) < 6:
                    rnd.extend(6)
            # Pace: 0.3–1 s between kills, shortened when the time cap needs it.
            remaining = max(1, quota - rnd.kills)
            pace = min(1.0, max(0.15, ((deadline - now) / remaining - overhead) / 0.65))
            delay = rng.uniform(0.3 * pace, pace)
            slept = 0.0
            hold_due = rng.random() < 0.10 or (rnd.hold_tries == 0 and rnd.kills >= quota // 3)   # at least one a round
            if hold_due and rnd.kills + soak.worker_count <= quota:
                rnd.hold_tries += 1
                # A kill inside an effect/journal gap: hold one answer, kill every worker while it is held.
                op = rng.choice(["submit", "start", "patch"])
                rnd.emulator.set_faults({"plans": [{"operation": op, "holdMs": 60000, "count": 1}]})
                seen = len(rnd.emulator.operations())
                until = time.time() + 6
                held = False
                while time.time() < until and not held:
                    time.sleep(0.1)
                    held = any(o.get("fault") == "hold" and o["op"] == op for o in rnd.emulator.operations()[seen:])
                if held:
                    soak.stats["held"] += 1
                for w in rnd.live():
                    rnd.kill_and_restart(w)
                rnd.emulator.set_faults({"plans": [{"operation": op, "rate": 0.0, "latencyMs": 1}]})
            else:
                time.sleep(delay)
                slept = delay
                live = rnd.live()
                if live:
                    rnd.kill_and_restart(rng.choice(live))
            if rng.random() < 0.5:
                rnd.emulator.set_faults(rnd.random_faults())
            check_db(rnd, v, final=False)
            if slept:
                overhead = 0.8 * overhead + 0.2 * max(0.0, time.time() - now - slept)
            gone = [w for w in rnd.workers if w.killed_at is None and w.stopped_at is None and not w.alive()]
            if gone:
                break
        # Converge with no faults and all data in place.
        rnd.emulator.clear_faults()
        rnd.restore_all()
        for w in rnd.workers:
            if w.killed_at is None and w.stopped_at is None and not w.alive():
                with open(w.log, errors="replace") as f:
                    last = (f.read().strip().splitlines() or [""])[-1][:400]
                v.add(f"round {rnd.index}: worker {os.path.basename(w.log)} exited on its own ({w.proc.returncode}): {last}")
                w.stopped_at = time.time()
        until = min(time.time() + 150, deadline + 120)
        done = False
        while time.time() < until and not done:
            time.sleep(0.5)
            snap = check_db(rnd, v, final=False)
            done = snap is not None and converged(snap[0], failed_slices(rnd))
        if not done:
            snap = rnd.snapshot()
            stuck = [f"{w[1]} {w[2]} {w[3]}/{w[4]}" for w in (snap[0] or []) if w[3] not in ("Ready", "Skipped", "Failed")]
            v.add(f"round {rnd.index}: not converged after the kills; unfinished windows: {stuck[:8]}")
        for w in rnd.live():
            status = w.stop()
            if status != 0:
                v.add(f"round {rnd.index}: worker {os.path.basename(w.log)} exited {status} on SIGTERM")
        windows, attempts = final_checks(rnd, v)
        soak.stats["windows"] += windows
        soak.stats["attempts"] += attempts
        if verbose:
            print(f"  round {rnd.index}: {rnd.kills} kills, {windows} windows, {attempts} attempts, "
                  f"{len(v)} violations so far", file=sys.stderr)
    finally:
        for w in rnd.workers:
            if w.alive():
                try:
                    os.killpg(w.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                w.proc.wait(timeout=30)
        rnd.emulator.stop()


def stop_on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    # SIGTERM/SIGINT (even when started in the background, where SIGINT is ignored) end the soak
    # through the `finally` blocks, which kill every worker and emulator it started.
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--workers", type=int, choices=(2, 3), default=3)
    parser.add_argument("--hours", type=int, default=36, help="hourly windows per round")
    parser.add_argument("--kills-per-round", type=int, default=125)
    parser.add_argument("--bin-dir", help="folder of the built refit and refit-mlsim (default .build/debug)")
    parser.add_argument("--allow-terminal", action="store_true",
                        help="accept a window Failed with budget left when its last attempt failed terminally "
                             "(Refit's classification, e.g. a malformed answer); counted in the figure line")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    started = time.time()
    soak = Soak(args)
    v = Violations()
    rounds = max(1, math.ceil(args.kills / args.kills_per_round))
    # Converging and checking a round takes ~20 s; keep that out of the kill time.
    cap = started + args.minutes * 60
    try:
        for index in range(rounds):
            quota = (args.kills - soak.kills) // (rounds - index)
            left = cap - time.time()
            round_deadline = time.time() + max(10.0, left / (rounds - index) - 35)
            rnd = Round(soak, index, args.hours)
            run_round(soak, rnd, quota, round_deadline, v, args.verbose)
            if time.time() > cap:
                break
    finally:
        if not args.keep and not v.items:
            shutil.rmtree(soak.base, ignore_errors=True)
    if soak.kills < args.kills:
        v.add(f"only {soak.kills} of {args.kills} kills fit in the {args.minutes:g}-minute cap")
    elapsed = int(time.time() - started)
    s = soak.stats
    print(f"soak: {soak.kills} kills, {args.workers} workers, {int(FAULT_RATE * 100)}% faults "
          f"({s['calls']} calls, {s['faulted']} faulted), {s['held']} kills in held gaps, {s['storage']} storage events, "
          f"{s['windows']} windows ({s['failed']} Failed by policy, {s['terminal']} of them terminal with budget left, {s['timedout']} late slices TimedOut), {s['attempts']} attempts, {len(v)} violations, "
          f"{elapsed // 60}m{elapsed % 60:02d}s, seed {args.seed}")
    if v.items:
        for item in v.items[:20]:
            print("violation: " + item, file=sys.stderr)
        print(f"scratch folders kept in {soak.base}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
