"""HTTP probes for scripts/check-container (standard library only).

    probe.py wait BASE_URL SECONDS [PID]  poll BASE_URL/healthz until it answers
                                          200 JSON (give up early if PID exits)
    probe.py resolve BASE_URL             GET BASE_URL/resolve?q=TTP, expect
                                          status matched and entity id ttp
    probe.py config < INSPECT_JSON        check the image configuration, from
                                          `docker image inspect` or
                                          `buildah inspect --type image`

Exit status 0 on success; otherwise a one-line reason on stderr and exit 1.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request


def get_json(url: str) -> tuple[int, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read().decode("utf-8"))


def alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child that exited but is not reaped yet still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_healthy(base: str, seconds: float, pid: int | None = None) -> int:
    deadline = time.monotonic() + seconds
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not alive(pid):
            print(f"the container process {pid} exited before /healthz answered", file=sys.stderr)
            return 1
        try:
            status, body = get_json(f"{base}/healthz")
            if status == 200:
                print(f"  /healthz -> {status} {json.dumps(body)}")
                return 0
            last = f"status {status}"
        except (OSError, ValueError) as exc:  # refused, reset, timeout, bad JSON
            last = str(exc)
        time.sleep(1)
    print(f"/healthz did not answer 200 within {seconds:.0f}s ({last})", file=sys.stderr)
    return 1


def check_resolve(base: str) -> int:
    url = f"{base}/resolve?q=TTP"
    try:
        status, body = get_json(url)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        print(f"GET {url} -> {exc.code}: {detail}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"GET {url} failed: {exc}", file=sys.stderr)
        return 1
    print(f"  /resolve?q=TTP -> {status} {json.dumps(body)[:300]}")
    entity = body.get("entity") if isinstance(body, dict) else None
    entity_id = entity.get("id") if isinstance(entity, dict) else None
    if status != 200 or body.get("status") != "matched" or entity_id != "ttp":
        print(
            f"expected 200 with status 'matched' and entity id 'ttp', got {status}, "
            f"status={body.get('status') if isinstance(body, dict) else None!r}, "
            f"entity id={entity_id!r}",
            file=sys.stderr,
        )
        return 1
    return 0


def image_config(inspect: object) -> dict:
    """The Docker-style config: docker gives a list, buildah a dict."""
    if isinstance(inspect, list) and inspect:
        return inspect[0].get("Config") or {}
    if isinstance(inspect, dict):
        docker = inspect.get("Docker") or {}
        return docker.get("config") or docker.get("Config") or {}
    return {}


def check_config(inspect: object) -> int:
    config = image_config(inspect)
    labels = config.get("Labels") or {}
    healthcheck = (config.get("Healthcheck") or {}).get("Test") or []
    problems = []
    if config.get("User", "").split(":")[0] in ("", "root", "0"):
        problems.append(f"runs as root (USER {config.get('User')!r})")
    if config.get("Entrypoint") != ["alias-service"]:
        problems.append(f"ENTRYPOINT is {config.get('Entrypoint')!r}")
    if "8000/tcp" not in (config.get("ExposedPorts") or {}):
        problems.append("port 8000 is not exposed")
    if not any("/healthz" in part for part in healthcheck):
        problems.append(f"no HEALTHCHECK on /healthz ({healthcheck!r})")
    for key in ("title", "description", "source", "licenses"):
        if f"org.opencontainers.image.{key}" not in labels:
            problems.append(f"label org.opencontainers.image.{key} missing")
    if problems:
        print("image configuration: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(
        f"  user {config['User']}, entrypoint {config['Entrypoint']}, cmd {config.get('Cmd')}, "
        f"workdir {config.get('WorkingDir')}, healthcheck present"
    )
    return 0


def main(argv: list[str]) -> int:
    if len(argv) in (3, 4) and argv[0] == "wait":
        pid = int(argv[3]) if len(argv) == 4 else None
        return wait_healthy(argv[1].rstrip("/"), float(argv[2]), pid)
    if len(argv) == 1 and argv[0] == "config":
        return check_config(json.load(sys.stdin))
    if len(argv) == 2 and argv[0] == "resolve":
        return check_resolve(argv[1].rstrip("/"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
