"""Background jobs: one way to enqueue a task. With REDIS_URL set, tasks go to rq queues worked
by `flask jobs worker` processes; without it they run in-process, so the embedded default needs
no Redis. Every job leaves a JobRecord; failed ones keep their error and can be retried."""

from app.jobs.queue import enqueue, retry, run_job, task

__all__ = ["enqueue", "retry", "run_job", "task"]
