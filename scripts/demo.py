#!/usr/bin/env python3
"""make demo: the example pipeline end to end on a local refit-mlsim.

Starts the emulator on a free loopback port, writes 24 hourly CSV slices for 2026-01-01 whose
relation drifts through the day (y = a(h)*x1 + b(h)*x2 + c(h) + noise), and runs `refit tick`
until every window of the example pipeline is Ready (or Skipped/Superseded). After each pass it
scores a fixed probe row on the emulator's `retrain` endpoint, so the prediction is seen to move
as each hour's model is deployed. Finally it prints, per slice, the trained coefficients and
evaluation, the prediction before and after that slice's update, and `refit history`, then writes
the HTML report (`refit report`) to .demo/report.html and prints its path as the last line.
Every process it starts is stopped at the end. Uses only the Python standard library."""
import json, os, random, shutil, signal, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "debug")
DEMO = os.path.join(ROOT, ".demo")
DATA = os.path.join(DEMO, "data")          # schedules/linked-services/demo-files.json: host ../.demo/data
DB = os.path.join(DEMO, "refit.sqlite")
REPORT = os.path.join(DEMO, "report.html")
PROBE = {"x1": 1.0, "x2": 1.0}


def relation(hour):
    """The truth drifts: x1's weight falls from 3 to about 1, x2's rises, the intercept creeps up."""
    return 3.0 - hour / 12.0, -2.0 + hour / 8.0, 5.0 + hour / 4.0


def write_slices():
    rng = random.Random(2026)
    for hour in range(24):
        a, b, c = relation(hour)
        folder = os.path.join(DATA, "training", "2026", "01", "01")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{hour:02d}.csv"), "w") as f:
            f.write("x1,x2,y\n")
            for _ in range(200):
                x1, x2 = rng.uniform(-5, 5), rng.uniform(-5, 5)
                f.write(f"{x1:.4f},{x2:.4f},{a * x1 + b * x2 + c + rng.gauss(0, 0.05):.4f}\n")


def http(method, url, body=None, key=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", "Bearer " + key)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def score(endpoint):
    body = {"Inputs": {"input1": {"ColumnNames": list(PROBE), "Values": [[str(v) for v in PROBE.values()]]}},
            "GlobalParameters": {}}
    result = json.loads(http("POST", endpoint["executeURL"], body, endpoint["apiKey"]))
    value = result["Results"]["output1"]["value"]
    return float(value["Values"][0][value["ColumnNames"].index("Scored Labels")])


def refit(env, *args):
    return subprocess.run([os.path.join(BIN, "refit"), *args], cwd=ROOT, env=env, capture_output=True, text=True)


def main():
    shutil.rmtree(DEMO, ignore_errors=True)
    os.makedirs(DEMO)
    emulator = subprocess.Popen([os.path.join(BIN, "refit-mlsim"), "--port", "0", "--job-duration", "0"],
                                stdout=subprocess.PIPE, stderr=open(os.path.join(DEMO, "mlsim.log"), "w"), text=True)
    try:
        info = json.loads(emulator.stdout.readline())
        retrain = next(e for e in info["predictive"]["endpoints"] if e["name"] == "retrain")
        env = dict(os.environ,
                   REFIT_DEMO_STORAGE_CONNECTION_STRING=info["storage"]["connectionString"],
                   REFIT_DEMO_TRAINING_JOBS_URL=info["training"]["jobsURL"],
                   REFIT_DEMO_TRAINING_API_KEY=info["training"]["apiKey"],
                   REFIT_DEMO_SCORING_JOBS_URL=retrain["executeURL"].replace("/execute", "/jobs"),
                   REFIT_DEMO_SCORING_API_KEY=retrain["apiKey"],
                   REFIT_DEMO_SCORING_MANAGEMENT_URL=retrain["managementURL"],
                   REFIT_DB=DB)
        print(f"refit-mlsim listening at {info['baseURL']}")
        write_slices()
        print(f"wrote 24 hourly slices under {os.path.relpath(DATA, ROOT)}/training/2026/01/01/")
        before_all = score(retrain)
        print(f"probe x1=1, x2=1 on 'retrain' before any update: {before_all:.3f}\n")

        deployed_after = {}      # window start -> prediction right after the pass that deployed it
        deployed_before = {}
        last = before_all
        for rounds in range(1, 80):
            # One pass at a time (--once), so each deployment's effect on the probe shows.
            tick = refit(env, "tick", "--once", "--log-format", "json")
            if tick.returncode != 0:
                sys.exit(f"refit tick failed ({tick.returncode}): {tick.stderr.strip().splitlines()[-1:]}")
            history = json.loads(refit(env, "history", "--pipeline", "RetrainPipeline", "--format", "json").stdout)
            now = score(retrain)
            for run in history:
                if run["activity"] == "UpdateScoringEndpoint" and run["status"] == "Succeeded" \
                        and run["windowStart"] not in deployed_after:
                    deployed_before[run["windowStart"]] = last
                    deployed_after[run["windowStart"]] = now
            last = now
            slices = json.loads(refit(env, "slices", "--pipeline", "RetrainPipeline", "--format", "json").stdout)
            windows = [s for s in slices if s["kind"] == "window"]
            done = [s for s in windows if s.get("status") in ("Ready", "Skipped")]
            if windows and len(done) == len(windows):
                break
        print(f"every window Ready after {rounds} passes of `refit tick --once` (a plain `refit tick` finishes the chain in one call)\n")

        sas = info["storage"]["sasToken"]
        endpoint = info["storage"]["blobEndpoint"]
        print("slice (UTC)        true a,b,c           trained a,b,c              RMSE   R2      probe before -> after update")
        for hour in range(24):
            start = f"2026-01-01T{hour:02d}:00:00Z"
            stamp = f"20260101{hour:02d}"
            model = json.loads(http("GET", f"{endpoint}/models/{stamp}/model.ilearner{sas}"))
            evaluation = dict(line.split(",", 1) for line in
                              http("GET", f"{endpoint}/models/{stamp}/evaluation.csv{sas}").decode().strip().splitlines()[1:])
            coef = model["coefficients"]
            a, b, c = relation(hour)
            after = deployed_after.get(start)
            change = f"{deployed_before[start]:8.3f} -> {after:7.3f}" if after is not None else "   (superseded)"
            print(f"{start[:16]}  {a:5.2f},{b:5.2f},{c:5.2f}   {coef['x1']:6.3f},{coef['x2']:6.3f},{model['intercept']:6.3f}   "
                  f"{float(evaluation['RMSE']):.3f}  {float(evaluation['R2']):.4f}  {change}")
        truth = relation(23)
        print(f"\nnow serving on 'retrain': {score(retrain):.3f} "
              f"(the newest slice's truth for the probe: {truth[0] + truth[1] + truth[2]:.3f}); "
              f"'default' still serves the initial model: {score(info['predictive']['endpoints'][0]):.3f}\n")
        print(refit(env, "history", "--pipeline", "RetrainPipeline").stdout)
        report = refit(env, "report", "--out", REPORT)
        if report.returncode != 0:
            sys.exit(f"refit report failed ({report.returncode}): {report.stderr.strip()}")
        print(REPORT)
    finally:
        emulator.send_signal(signal.SIGTERM)
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()


if __name__ == "__main__":
    main()
