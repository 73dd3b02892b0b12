"""gunicorn settings for DealerCover's web processes.

gunicorn reads this file by itself when started from the project folder (`gunicorn wsgi:app`);
options given on the command line win over it. WEB_WORKERS and WEB_THREADS override the sizes.
"""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8080")
worker_class = "gthread"
# One process per core runs Python while others wait on PostgreSQL or on carriers.
workers = int(os.environ.get("WEB_WORKERS", 2 * multiprocessing.cpu_count() - 1))
# A desk waiting on its carriers holds a thread for their latency, so a process keeps several
# requests in flight; 10 stays within SQLAlchemy's pool (5 + 10) beside the quote writers.
threads = int(os.environ.get("WEB_THREADS", 10))
# gthread accepts up to `worker_connections` connections per process (1000 by default), so a
# burst of new connections lands mostly on whichever process woke first while the others idle:
# 20 quotes at once went 16 to one worker and 4 to the other. Capped at its threads (+1 kept
# alive), a process leaves the rest of a burst to the others.
worker_connections = threads + 1
timeout = 60
