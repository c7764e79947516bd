#!/usr/bin/env python3
"""The retrain -> update chain of `make bench-peers` in Luigi, with zero-work steps (no HTTP).

usage: bench_luigi_chain.py N DATA_DIR OUT_DIR

Per hourly window h (0..N-1): RawData(h) is an external task (the slice file DATA_DIR/h.csv),
Retrain(h) requires it, Update(h) requires Retrain(h); each task's output is a LocalTarget under
OUT_DIR, complete() is that file's existence, and run() only writes it. One
`luigi.build([Update(h) ...], local_scheduler=True, workers=4)`. Run with the bench virtualenv's
Python (Luigi installed there); exits 0 when the build succeeded. Luigi's own log goes to stderr.
"""
import os, sys

import luigi

N, DATA, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class RawData(luigi.ExternalTask):
    hour = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(os.path.join(DATA, f"{self.hour}.csv"))


class Retrain(luigi.Task):
    hour = luigi.IntParameter()

    def requires(self):
        return RawData(self.hour)

    def output(self):
        return luigi.LocalTarget(os.path.join(OUT, "models", f"{self.hour}.ilearner"))

    def run(self):
        with self.output().open("w") as f:
            f.write("model\n")


class Update(luigi.Task):
    hour = luigi.IntParameter()

    def requires(self):
        return Retrain(self.hour)

    def output(self):
        return luigi.LocalTarget(os.path.join(OUT, "updates", f"{self.hour}.done"))

    def run(self):
        with self.output().open("w") as f:
            f.write("patched\n")


if __name__ == "__main__":
    ok = luigi.build([Update(hour=h) for h in range(N)], local_scheduler=True, workers=4)
    sys.exit(0 if ok else 1)
