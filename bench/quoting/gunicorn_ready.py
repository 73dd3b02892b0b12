"""gunicorn settings for the fan-out benchmark: the project's own (gunicorn.conf.py), and each
worker, once it has loaded the app, leaves a file named after its pid in $BENCH_READY_DIR, so the
benchmark starts when every worker can answer (gunicorn's master accepts connections before its
workers have imported anything)."""

import os
import runpy
from pathlib import Path

globals().update(
    {
        name: value
        for name, value in runpy.run_path(
            str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")
        ).items()
        if not name.startswith("__")
    }
)


def post_worker_init(worker) -> None:
    folder = os.environ.get("BENCH_READY_DIR")
    if folder:
        (Path(folder) / str(worker.pid)).touch()
