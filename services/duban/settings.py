"""One typed settings object, read from the environment (prefix ``DUBAN_``) once."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

_PREFIX = "DUBAN_"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a node needs to run; defaults are the embedded single-machine setup."""

    data_dir: Path = Path(".duban")
    # Empty: one SQLite file per tenant under data_dir/db. Otherwise a PostgreSQL URL
    # (postgresql+asyncpg://...), one schema ``tenant_<code>`` per tenant.
    database_url: str = ""
    tenants_file: Path = Path("tenants/huaian.toml")
    policies_dir: Path = Path("policies")
    # Which tenants this node hosts; empty means every tenant in the registry.
    hosted_tenants: tuple[str, ...] = ()
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "DUBAN"
    nats_replicas: int = 1  # 3 on a production cluster (R3 stream)
    # This node's NATS user (`duban nats config` makes one per node); empty: connect without one.
    nats_user: str = ""
    nats_password: str = ""
    # The CA that signed the NATS servers' certificates, for tls:// URLs (empty: the system's CAs).
    nats_ca_file: Path | None = None
    # Every tenant's public keys, <tenant>.pub (shared by all nodes); empty: data_dir/keys.
    keys_dir: Path | None = None
    # The hosted tenants' private signing keys, <tenant>.key (this node only); empty: data_dir/private-keys.
    private_keys_dir: Path | None = None
    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_secure: bool = False
    s3_bucket_prefix: str = "duban-archive"
    # 反馈附件: kept per tenant in the bucket <s3_bucket_prefix>-files-<tenant>. The largest file, in MB,
    # and the types allowed by extension (the first bytes must agree; executables are always refused).
    attachment_max_mb: int = 100
    attachment_types: tuple[str, ...] = ("pdf", "ofd", "doc", "docx", "xls", "xlsx", "wps", "et", "jpg", "jpeg",
                                         "png", "zip", "txt")
    host: str = "127.0.0.1"
    port: int = 8000
    session_hours: int = 12
    session_idle_minutes: int = 30  # a session unused this long ends (0: only session_hours ends it)
    session_cache_seconds: float = 2.0  # a session checked this recently serves reads unchecked (auth.SeenSessions)
    login_max_failures: int = 5  # wrong passwords in a row that pause an account's logins (0: never)
    login_lockout_minutes: int = 15  # how long they count, and how long the pause lasts
    login_rate_per_minute: int = 60  # login attempts a minute from one client address (0: no limit)
    # scrypt cost as log2(N) for new password hashes; each hash records its own, so changing it
    # later only affects new passwords.
    password_cost: int = 14
    # Holders of these roles log in with a second factor (TOTP) too; until enrolled they may only enroll.
    second_factor_roles: tuple[str, ...] = ("approver", "administrator")
    # Client addresses of reverse proxies whose X-Forwarded-Proto is believed (a login over https there
    # gets a Secure cookie); empty: only the node's own scheme counts.
    trusted_proxies: tuple[str, ...] = ()
    relay_poll_seconds: float = 2.0
    # Seconds before JetStream hands an unacknowledged event to the consumer again: how soon a
    # restarted node gets back what it was working on when it died (in-progress acks keep slow work).
    nats_ack_wait: float = 5.0
    # A received event waiting this long for an earlier one of its item is raised to the operator.
    gap_alert_minutes: float = 10.0
    # Background jobs (the 催办 scheduler) run inside this node; false when `duban worker` runs them.
    run_jobs: bool = True
    reminder_scan_seconds: float = 60.0
    # 第九条: how often each hosted tenant counts its work and reports it to the city (only when changed).
    figures_report_minutes: float = 10.0
    # For tests and drills only: the node's clock stands still at this moment (ISO 8601 with offset).
    fixed_time: str = ""
    # For tests only: a file path. The node SIGKILLs itself once (while the file does not exist yet, and
    # creates it) right after copying a received attachment, before the event's transaction commits.
    fault_kill_after_copy: str = ""
    fonds_code: str = "J001"  # 全宗号 of the archive
    # Where notifications go besides the in-app list (notifications/channels.py): log, email.
    notify_channels: tuple[str, ...] = ("log",)
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_tls: str = "none"  # none | starttls | tls (implicit TLS, usually port 465)
    smtp_username: str = ""  # empty: no login
    smtp_password: str = ""
    smtp_sender: str = ""  # the From address
    # Log lines: "text" (default) or "json" (one object a line with request_id, tenant, actor: observability/).
    log_format: str = "text"
    # Who may read /metrics: set, a request bearing "Authorization: Bearer <this>"; empty, only requests from
    # this host (127.0.0.1, ::1) that no proxy forwarded (observability/routes.py).
    metrics_token: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``DUBAN_*`` variables; keyword overrides win (used by the CLI and tests)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def keys_path(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    @property
    def private_keys_path(self) -> Path:
        return self.private_keys_dir or self.data_dir / "private-keys"

    @property
    def is_sqlite(self) -> bool:
        return not self.database_url or self.database_url.startswith("sqlite")


def _convert(name: str, type_name: object, raw: str) -> object:
    kind = str(type_name)
    if "None" in kind and not raw.strip():
        return None
    try:
        if "Path" in kind:
            return Path(raw)
        if "tuple" in kind:
            return _split(raw)
        if kind == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {_PREFIX}{name.upper()}={raw!r}: {exc}") from exc
    return raw
