import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


@pytest.fixture
def hang_guard():
    """Fail (instead of hanging the suite) if a test runs for more than 20 s of wall clock.

    Not a timing assertion: any refusal takes milliseconds; this only turns a hang into a failure.
    """
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        raise TimeoutError("the engine hung on hostile input")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
