"""What the tests ask of other processes, from /proc: no waiting on them,
which would race with their own parent's reaping."""

import time
from pathlib import Path


def is_running(pid: int) -> bool:
    """Whether the process lives and has not ended (a zombie waits for its reaping)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def ended_within(pid: int, seconds: float) -> bool:
    """Whether the process has ended, waiting at most ``seconds`` for it."""
    deadline = time.monotonic() + seconds
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
