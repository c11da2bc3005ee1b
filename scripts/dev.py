"""`make dev`: the whole platform on this machine, until Ctrl-C.

Starts RabbitMQ and MongoDB (mongod, else mongo-java-server: scripts/mongodb.sh) unless they already run, then the API (:8000), the
master (:8080), one worker with capacity 4 (with a fresh worker API key) and, when
frontend/dist is built (`make dev` builds it), the dashboard (:3000): `vite preview` with /api
proxied to the API, server-sent events included. Every child's output is printed with its name.
Ctrl-C, SIGTERM, SIGHUP or the death of the parent (`make` killed) stops every child and the
infrastructure started here; a child that dies on its own stops everything with exit code 1.
"""

from __future__ import annotations

import collections
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
BIN = Path(sys.executable).parent  # .venv/bin: `make dev` runs this with .venv/bin/python
API_PORT, MASTER_PORT, DASHBOARD_PORT = 8000, 8080, 3000
ADMIN = ("admin", "admin")
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
# Each local service, and the setting that points at one of your own instead (then not started).
INFRA = {"rabbitmq": "RABBITMQ_URL", "mongodb": "MONGODB_URL"}

stopping = threading.Event()
print_lock = threading.Lock()


def emit(line: str) -> None:
    with print_lock:
        try:
            print(line, flush=True)
        except OSError:  # the terminal or pipe is gone; the cleanup must go on regardless
            pass


def say(text: str) -> None:
    emit(f"[dev] {text}")


def die_with_parent() -> None:
    # Why: if dev.py is SIGKILLed its children get SIGTERM instead of running on unowned.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Child:
    """A service process whose output is printed with a prefix and remembered."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.last_lines: collections.deque[str] = collections.deque(maxlen=40)
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches dev.py only; it stops children in order
            preexec_fn=die_with_parent,
        )
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.last_lines.append(line)
            emit(f"[{self.name}] {line}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {STOP_TIMEOUT:.0f}s; killing it")
        self._signal(signal.SIGKILL)  # whatever is left of its process group
        self.proc.wait()
        self.reader.join(timeout=2)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class ChildDied(Exception):
    pass


class Dev:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self.started_infra: list[str] = []
        self.parent = os.getppid()

    # --- infrastructure --------------------------------------------------------------------
    def start_infra(self) -> None:
        subprocess.run([SCRIPTS / "install-deps.sh"], check=True)
        for name, setting in INFRA.items():
            if os.environ.get(setting):
                say(f"{name}: using {setting} from the environment")
                continue
            script = SCRIPTS / f"{name}.sh"
            if subprocess.run([script, "status"], capture_output=True).returncode == 0:
                say(f"{name} already running; leaving it running afterwards")
                continue
            self.started_infra.append(name)  # before starting: a half-started one is stopped too
            subprocess.run([script, "start"], check=True, preexec_fn=die_with_parent)

    def stop_infra(self) -> None:
        for name in reversed(self.started_infra):
            subprocess.run([SCRIPTS / f"{name}.sh", "stop"], check=False)

    # --- services ------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        base = {
            "MONGODB_URL": f"mongodb://localhost:{os.environ.get('MONGODB_PORT', '27017')}",
            "RABBITMQ_URL": f"amqp://guest:guest@localhost:{os.environ.get('RABBITMQ_PORT', '5672')}/",
            "ENVIRONMENT": "development",  # allows the built-in development secrets
            "ADMIN_USERNAME": ADMIN[0],
            "ADMIN_PASSWORD": ADMIN[1],
            "PYTHONUNBUFFERED": "1",
        }
        # The developer's own environment wins (e.g. SECRET_KEY), except per-service settings.
        return {**base, **os.environ, **extra}

    def spawn(self, name: str, command: str, **env: str) -> Child:
        child = Child(name, [str(BIN / command)], self.env(**env))
        self.children.append(child)
        return child

    def watch(self) -> None:
        """Raises ChildDied when a child exits; returns when asked to stop."""
        for child in self.children:
            code = child.proc.poll()
            if code is not None:
                child.reader.join(timeout=2)
                raise ChildDied(
                    f"{child.name} exited with code {code}; its last lines:\n"
                    + "\n".join(f"  {line}" for line in child.last_lines)
                )
        if os.getppid() != self.parent:  # `make` was killed: SIGTERM to make forwards nothing
            say("parent process is gone")
            stopping.set()

    def wait_ready(self, url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not http_ok(url):
            self.watch()
            if stopping.is_set():
                raise KeyboardInterrupt
            if time.monotonic() > deadline:
                raise ChildDied(f"{url} did not answer within {READY_TIMEOUT:.0f}s")
            time.sleep(0.25)

    def worker_key(self) -> str:
        api = f"http://localhost:{API_PORT}/api/v1"
        form = urllib.parse.urlencode({"username": ADMIN[0], "password": ADMIN[1]}).encode()
        token = post(f"{api}/auth/token", form, "application/x-www-form-urlencoded")["access_token"]
        body = json.dumps({"name": "dev-worker", "kind": "worker"}).encode()
        # A new key on each start: simpler than checking a saved one, and keys are cheap.
        return post(f"{api}/api-keys", body, "application/json", token)["key"]

    def run(self) -> int:
        self.start_infra()
        self.spawn("api", "jobrunner-api", PORT=str(API_PORT))
        self.spawn("master", "jobrunner-master", PORT=str(MASTER_PORT))
        self.wait_ready(f"http://localhost:{API_PORT}/healthz")
        self.wait_ready(f"http://localhost:{MASTER_PORT}/healthz")
        self.spawn(
            "worker",
            "jobrunner-worker",
            MASTER_URL=f"http://localhost:{MASTER_PORT}",
            API_KEY=self.worker_key(),
            WORKER_CAPACITY="4",
        )
        dashboard = self.start_dashboard()
        self.banner(dashboard)
        while not stopping.is_set():
            self.watch()
            stopping.wait(0.5)
        return 0

    def start_dashboard(self) -> bool:
        """`vite preview` of frontend/dist (built by `make frontend`), /api proxied to the API."""
        frontend = ROOT / "frontend"
        vite = frontend / "node_modules" / ".bin" / "vite"
        if not (frontend / "dist" / "index.html").exists() or not vite.exists():
            return False
        # The positional root: vite reads frontend/vite.config.ts (the proxy) and serves its dist.
        argv = [str(vite), "preview", str(frontend), "--port", str(DASHBOARD_PORT), "--strictPort"]
        child = Child("dashboard", argv, self.env(JOBRUNNER_API_URL=f"http://localhost:{API_PORT}"))
        self.children.append(child)
        self.wait_ready(f"http://localhost:{DASHBOARD_PORT}/")
        return True

    def banner(self, dashboard: bool) -> None:
        board = f"http://localhost:{DASHBOARD_PORT}" if dashboard else "not built (run `make frontend`)"
        say(
            "jobrunner is running — Ctrl-C stops everything\n"
            f"  dashboard  {board}\n"
            f"  REST API   http://localhost:{API_PORT}/api/v1   (docs http://localhost:{API_PORT}/docs)\n"
            f"  master     http://localhost:{MASTER_PORT}   (Socket.IO namespace /workers)\n"
            f"  login      {ADMIN[0]} / {ADMIN[1]}\n"
            "  worker     1 worker, capacity 4"
        )

    def shutdown(self) -> None:
        for child in reversed(self.children):  # the worker first, the API last
            child.stop()
        self.stop_infra()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def post(url: str, body: bytes, content_type: str, token: str | None = None) -> dict:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise ChildDied(f"POST {url} answered {error.code}: {error.read()[:500]!r}") from None


def main() -> int:
    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt

    # SIGINT too: a shell that starts `make dev` in the background sets it to "ignore".
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    dev = Dev()
    code = 0
    try:
        code = dev.run()
    except KeyboardInterrupt:
        pass
    except (ChildDied, subprocess.CalledProcessError) as error:
        say(f"error: {error}")
        code = 1
    finally:
        # Why: a second Ctrl-C must not abort the cleanup and leave services behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping")
        dev.shutdown()
        say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
