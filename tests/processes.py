"""What the tests ask of other processes, from /proc: no waiting on them,
which would race with their own parent's reaping."""

import subprocess
import sys
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


def orphaned_child(imports: str, work: str, call: str, pid_file: Path) -> int:
    """Run ``call`` (after ``imports``) in a Python process, the function
    ``work`` that its forked child runs made to write the child's id to
    ``pid_file`` and hang; kill that process outright once the child has
    written, and give the child's id."""
    script = "\n".join(
        [
            "import os, time",
            imports,
            "def hanging(*_):",
            f"    with open({str(pid_file)!r}, 'w') as pid:",
            "        pid.write(str(os.getpid()))",
            "    time.sleep(120)",
            f"{work} = hanging",
            call,
        ]
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[1])
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        child = int(pid_file.read_text())
        assert is_running(child)
    finally:
        process.kill()
        process.wait()
    return child
