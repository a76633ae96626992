"""Running the grid of jobs: leaderboard, noise robustness; caching and parallel backends.

``istdbench run CONFIG -o OUT`` (or `istdbench.runners.runner.run`) expands a
run config into jobs, one per (method variant, sequence, noise, seed, metric
protocol), skips the jobs already stored in ``OUT`` and runs the rest here, in
local worker processes or on a Dask cluster. The modules, in the order a run
uses them:

- `config`: the TOML/YAML run config (shipped: ``configs/quick.toml``, ``configs/paper.toml``).
- `jobs`: checks every name and expands the grid into content-keyed jobs.
- `store`: the output folder (manifest, per-job folders written atomically, ``results.csv``).
- `parallel`, `workers`, `execute`: where and how a job runs (a child process per job locally); a failing
  or crashing job becomes a failure row.
- `env`: the environment columns of every row.
- `golden`: the CI comparison of the quick run with ``tests/golden/quick_metrics.csv``.
"""
