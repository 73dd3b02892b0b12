"""gunicorn settings for the fan-out benchmark: each worker, once it has loaded the app, leaves
a file named after its pid in $BENCH_READY_DIR, so the benchmark starts when every worker can
answer (gunicorn's master accepts connections before its workers have imported anything)."""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    folder = os.environ.get("BENCH_READY_DIR")
    if folder:
        (Path(folder) / str(worker.pid)).touch()
