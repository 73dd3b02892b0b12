"""CPU cost of one quote and of one poll, in process (no HTTP server), on the embedded SQLite.

The fan-out benchmark's wall times depend on how busy the machine is; the CPU a quote costs
(its request, the 14 carriers' pricing and the answers' writes, all threads of the process)
depends much less on it, and it is what bounds 20 quotes at once on one process. Same set-up as
bench_fanout.py (14 sandbox carriers at 300 ms).

  .venv/bin/python bench/quoting/profile_quote.py            # CPU ms per quote and per poll
  .venv/bin/python bench/quoting/profile_quote.py --profile  # and where a quote's request
                                                             # thread spends it (pyinstrument,
                                                             # `pip install pyinstrument` first)
Prints figures only; it never asserts times.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_fanout as bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quotes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dc-profile-"))
    environment = {"APP_MODE": "dev", "STORAGE_PATH": str(folder)}
    environment.update(DATABASE_URL="", REDIS_URL="")
    try:
        ids = bench.prepare(environment, folder)
        from app import create_app

        app = create_app("dev")
        client = app.test_client()
        login = {"username": bench.USERNAME, "password": bench.PASSWORD, "provider": "db"}
        token = client.post("/api/v1/security/login", json={**login, "refresh": False})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        body = bench.quote_body(ids)
        quote_id = client.post("/api/v1/quote/?wait=1", json=body, headers=headers).get_json()["id"]
        quotes, polls = [], []
        for _ in range(options.rounds):
            started = time.process_time()
            for _ in range(options.quotes):
                client.post("/api/v1/quote/?wait=1", json=body, headers=headers)
            quotes.append((time.process_time() - started) / options.quotes)
            started = time.process_time()
            for _ in range(options.quotes):
                client.get(f"/api/v1/quote/{quote_id}", headers=headers)
            polls.append((time.process_time() - started) / options.quotes)
        print(
            f"CPU per quote (request + 14 carriers + writes, every thread): "
            f"{min(quotes) * 1000:.1f} ms; per poll: {min(polls) * 1000:.1f} ms "
            f"(best of {options.rounds} rounds of {options.quotes})"
        )
        if options.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(options.quotes):
                    client.post("/api/v1/quote/", json=body, headers=headers)
            time.sleep(1)  # let the carriers answer before the database goes
            print(profiler.output_text(color=False))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
