"""The ``duban`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import signal
import sys
from pathlib import Path

from duban.errors import DubanError
from duban.events.models import STATUSES
from duban.observability.logs import configure as configure_logging
from duban.settings import Settings
from duban.tenancy.registry import RegistryError

log = logging.getLogger("duban")
RUNTIME_FILE = "runtime.json"  # where a running `duban up` tells other commands how to reach its servers


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="duban", description="督查督办 network platform (淮政办发〔2007〕145号)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole platform here: NATS, S3, every tenant on SQLite, demo accounts")
    up.add_argument("--data-dir", type=Path, default=None, help="where everything is kept (default ./.duban)")
    up.add_argument("--port", type=int, default=None, help="HTTP port (default 8000)")
    up.add_argument("--host", default=None, help="HTTP address (default 127.0.0.1)")

    sub.add_parser("serve", help="run one node against the NATS, S3 and database named by DUBAN_* variables")
    sub.add_parser("worker", help="run the background jobs (the 催办 scheduler) alone, beside nodes that run "
                                  "with DUBAN_RUN_JOBS=false")
    migrate = sub.add_parser("migrate", help="apply database migrations to every hosted tenant")
    migrate.add_argument("--check", action="store_true", help="only check that models and migrations agree")
    sub.add_parser("seed-demo", help="create demo accounts in tenants that have no users")

    archive = sub.add_parser("archive", help="archive tools")
    archive_sub = archive.add_subparsers(dest="archive_command", required=True)
    verify = archive_sub.add_parser("verify", help="re-read and re-hash an archived dossier")
    verify.add_argument("tenant")
    verify.add_argument("item_id")
    verify.add_argument("--data-dir", type=Path, default=None, help="a `duban up` data dir to read servers from")

    inbox = sub.add_parser("inbox", help="received events: list, gaps, replay a conflict, skip")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True)
    listing = inbox_sub.add_parser("list", help="a tenant's received events, newest first")
    listing.add_argument("tenant")
    listing.add_argument("--status", choices=STATUSES, default=None)
    listing.add_argument("--limit", type=int, default=50)
    gaps = inbox_sub.add_parser("gaps", help="items whose events wait for an earlier one that has not come")
    gaps.add_argument("tenant")
    replay = inbox_sub.add_parser("replay", help="apply a conflict again, once its cause is fixed")
    replay.add_argument("tenant")
    replay.add_argument("event_id")
    skip = inbox_sub.add_parser("skip", help="do not apply a conflict; or give up the events missing before a "
                                             "parked one and take it now")
    skip.add_argument("tenant")
    skip.add_argument("event_id")
    skip.add_argument("--reason", required=True)
    for command in (listing, gaps, replay, skip):
        command.add_argument("--data-dir", type=Path, default=None, help="the data dir of `duban up` (SQLite)")

    calendar = sub.add_parser("calendar", help="the statutory working-day calendar: load a year's notice, show, count")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    cal_load = calendar_sub.add_parser("load", help="load (or replace) a year's 国务院办公厅 holiday notice (a TOML "
                                                    "file, see README) into every hosted tenant")
    cal_load.add_argument("file", type=Path)
    cal_show = calendar_sub.add_parser("show", help="a year's holidays and make-up working days, and their source")
    cal_show.add_argument("year", type=int)
    cal_show.add_argument("--toml", action="store_true", help="print it in the notice file format")
    cal_after = calendar_sub.add_parser("after", help="print the date N working days after DATE")
    cal_after.add_argument("date", type=_iso_date, help="YYYY-MM-DD")
    cal_after.add_argument("n", type=int, help="working days (negative: before DATE)")
    for command in (cal_load, cal_show, cal_after):
        command.add_argument("--data-dir", type=Path, default=None, help="the data dir of `duban up` (SQLite)")

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_sub.add_parser("verify", help="walk a tenant's audit and history chains; name the first "
                                                       "broken link")
    audit_verify.add_argument("tenant")
    audit_verify.add_argument("--data-dir", type=Path, default=None, help="the data dir of `duban up` (SQLite)")

    keys = sub.add_parser("keys", help="the tenants' event signing keys (Ed25519)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_init = keys_sub.add_parser("init", help="make a signing key for every hosted tenant that has none; put "
                                                 "its public key in DUBAN_KEYS_DIR/<tenant>.pub")
    keys_rotate = keys_sub.add_parser("rotate", help="a new key for a tenant: both keys verify until `retire`, new "
                                                     "events are signed with the new one")
    keys_rotate.add_argument("tenant")
    keys_retire = keys_sub.add_parser("retire", help="end a rotation: drop every public key of the tenant but the "
                                                     "one this node signs with")
    keys_retire.add_argument("tenant")
    keys_show = keys_sub.add_parser("show", help="every tenant's public key ids, and which ones this node can sign for")
    for command in (keys_init, keys_rotate, keys_retire, keys_show):
        command.add_argument("--data-dir", type=Path, default=None, help="the data dir of `duban up`")

    nats_cmd = sub.add_parser("nats", help="NATS tools")
    nats_sub = nats_cmd.add_subparsers(dest="nats_command", required=True)
    nats_config = nats_sub.add_parser("config", help="nats-server users and permissions, one user per node, from the "
                                                     "registry and which node hosts which tenants")
    nats_config.add_argument("--nodes", type=Path, default=None,
                             help="a TOML file of [[nodes]] name = …, tenants = […] (e.g. deploy/nodes.toml)")
    nats_config.add_argument("--node", action="append", default=[], metavar="NAME=T1,T2",
                             help="a node and its tenants (instead of, or besides, --nodes); repeatable")
    nats_config.add_argument("--out", type=Path, default=None, help="write here (mode 0600) instead of stdout")

    policy_cmd = sub.add_parser("policy", help="the Casbin policy files")
    policy_sub = policy_cmd.add_subparsers(dest="policy_command", required=True)
    matrix = policy_sub.add_parser("matrix", help="regenerate the role × action matrix in policies/README.md from "
                                                  "the policy files")
    matrix.add_argument("--check", action="store_true", help="only compare: exit 1 if the README has drifted")
    matrix.add_argument("--policies-dir", type=Path, default=None, help="default: DUBAN_POLICIES_DIR (policies)")

    totp_cmd = sub.add_parser("totp", help="the demo accounts' second factor (TOTP)")
    totp_sub = totp_cmd.add_subparsers(dest="totp_command", required=True)
    totp_code = totp_sub.add_parser("code", help="print a demo account's current TOTP code (from the demo identities "
                                                 "file `up`/`seed-demo` wrote in the data dir)")
    totp_code.add_argument("--tenant", required=True)
    totp_code.add_argument("--user", required=True)
    totp_code.add_argument("--data-dir", type=Path, default=None, help="the data dir (default ./.duban)")

    ledger = sub.add_parser("ledger", help="台账 (Excel sheets of items)")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_import = ledger_sub.add_parser("import", help="import items from a 台账 .xlsx as drafts of a user (as "
                                                         "POST /api/items/import); prints the report as JSON")
    ledger_import.add_argument("file", type=Path)
    ledger_import.add_argument("--tenant", required=True)
    ledger_import.add_argument("--user", required=True, help="the importing user (the items are drafted as theirs)")
    ledger_import.add_argument("--mode", choices=("all", "good-rows", "check"), default="all",
                               help="all: nothing if any row is wrong (default); good-rows: the right rows; "
                                    "check: only report")
    ledger_import.add_argument("--group", default=None, help="the 督查组 of the items (default: the 责任领导's)")
    ledger_import.add_argument("--division", default=None, help="the 责任处室 the items record")
    ledger_import.add_argument("--data-dir", type=Path, default=None, help="the data dir of `duban up` (SQLite)")

    network = sub.add_parser("network", help="the event network as this node's databases see it")
    network_sub = network.add_subparsers(dest="network_command", required=True)
    status = network_sub.add_parser("status", help="every hosted tenant's outbox backlog, the last event from each "
                                                   "sender, refused events (and how to replay them)")
    status.add_argument("--limit", type=int, default=20, help="refused events shown per tenant (newest first)")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.add_argument("--data-dir", type=Path, default=None, help="the data dir of `duban up` (SQLite)")

    tenants = sub.add_parser("tenants", help="tenant registry tools")
    tenants_sub = tenants.add_subparsers(dest="tenants_command", required=True)
    check = tenants_sub.add_parser("check", help="validate a registry file")
    check.add_argument("file", type=Path, nargs="?")

    args = parser.parse_args(argv)
    configure_logging()  # DUBAN_LOG_FORMAT: text (as before) or json (observability/logs.py)
    try:
        return _dispatch(args)
    except (DubanError, RegistryError) as exc:
        print(f"duban: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _exit_on_sigterm() -> None:
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it; without a handler that would
    # end the process before our own cleanup (stopping NATS and S3) runs.
    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("up", "serve", "worker"):
        _exit_on_sigterm()
    if args.command == "up":
        return up(args.data_dir, args.host, args.port)
    if args.command == "serve":
        return asyncio.run(_serve(Settings.from_env(), seed=False))
    if args.command == "worker":
        return asyncio.run(_worker(Settings.from_env()))
    if args.command == "migrate":
        return asyncio.run(_migrate(Settings.from_env(), check=args.check))
    if args.command == "seed-demo":
        return asyncio.run(_seed(Settings.from_env()))
    if args.command == "archive":
        settings = _settings_of_running_up(args.data_dir) if args.data_dir else Settings.from_env()
        return asyncio.run(_verify(settings, args.tenant, args.item_id))
    if args.command == "audit":
        return asyncio.run(_audit(Settings.from_env(data_dir=args.data_dir), args.tenant))
    if args.command == "inbox":
        return asyncio.run(_inbox(Settings.from_env(data_dir=args.data_dir), args))
    if args.command == "calendar":
        return asyncio.run(_calendar(Settings.from_env(data_dir=args.data_dir), args))
    if args.command == "keys":
        return _keys(Settings.from_env(data_dir=args.data_dir), args)
    if args.command == "nats":
        return _nats_config(Settings.from_env(), args)
    if args.command == "policy":
        return _policy_matrix(args.policies_dir or Settings.from_env().policies_dir, check=args.check)
    if args.command == "totp":
        return _totp_code(Settings.from_env(data_dir=args.data_dir), args.tenant, args.user)
    if args.command == "ledger":
        from duban.ledgers.commands import run_import

        return asyncio.run(run_import(Settings.from_env(data_dir=args.data_dir), args))
    if args.command == "network":
        from duban.observability.status import network_status

        return asyncio.run(network_status(Settings.from_env(data_dir=args.data_dir), limit=args.limit,
                                          as_json_output=args.json))
    if args.command == "tenants":
        from duban.tenancy.registry import load_registry

        registry = load_registry(args.file or Settings.from_env().tenants_file)
        print(f"{registry.source}: {len(registry.tenants)} tenants, {len(registry.groups)} groups — ok")
        return 0
    raise AssertionError(args.command)


def _policy_matrix(policies_dir: Path, check: bool) -> int:
    from duban.policy import matrix

    if check:
        if matrix.drifted(policies_dir):
            print(f"{policies_dir / 'README.md'} differs from the policy files: run `duban policy matrix`",
                  file=sys.stderr)
            return 1
        print(f"{policies_dir / 'README.md'} matches the policy files")
        return 0
    changed = matrix.write(policies_dir)
    print(f"{policies_dir / 'README.md'} {'regenerated' if changed else 'already up to date'}")
    return 0


# -- one node ----------------------------------------------------------------------------------------
async def _serve(settings: Settings, *, seed: bool, on_ready=None) -> int:  # noqa: ANN001
    import uvicorn

    from duban.app import create_app
    from duban.platform import Platform

    platform = Platform(settings)
    await platform.migrate()
    logins = await platform.seed_demo() if seed else []
    from duban.observability.logs import uvicorn_options

    config = uvicorn.Config(create_app(platform), host=settings.host, port=settings.port, log_level="info",
                            lifespan="on", **uvicorn_options(settings.log_format))
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(settings, logins)
    await server.serve()
    return 0 if server.started else 1


async def _worker(settings: Settings) -> int:
    from duban.platform import Platform

    platform = Platform(settings)
    await platform.start(worker=True)
    log.info("worker running the jobs of %s tenants", len(platform.tenants))
    try:
        await asyncio.Event().wait()  # until SIGTERM (SystemExit) or Ctrl-C
    finally:
        await platform.stop()
    return 0


async def _migrate(settings: Settings, *, check: bool) -> int:
    from alembic.util.exc import AutogenerateDiffsDetected

    from duban.db.migrate import check_tenant
    from duban.platform import build_database

    db = build_database(settings)
    try:
        if not check:
            await db.migrate()
        for tenant in db.tenants if check else []:
            try:
                await check_tenant(db, tenant)
            except AutogenerateDiffsDetected as exc:
                print(f"{tenant}: models and migrations differ: {exc}", file=sys.stderr)
                return 1
        print(f"{'checked' if check else 'migrated'} {len(db.tenants)} tenants")
        return 0
    finally:
        await db.dispose()


def _totp_code(settings: Settings, tenant: str, username: str) -> int:
    from duban.accounts.totp import code_at, identities_path, read_identities
    from duban.timesource import time_source

    secret = read_identities(settings.data_dir).get(tenant, {}).get(username, {}).get("totp_secret")
    if secret is None:
        print(f"duban: {tenant}/{username} has no TOTP secret in {identities_path(settings.data_dir)} (only the "
              f"demo approver and administrator accounts have one)", file=sys.stderr)
        return 1
    print(code_at(secret, time_source(settings.fixed_time).now()))
    return 0


async def _seed(settings: Settings) -> int:
    from duban.platform import Platform

    platform = Platform(settings)
    try:
        logins = await platform.seed_demo()
    finally:
        await platform.db.dispose()
    print(f"{len(logins)} demo accounts present")
    return 0


async def _verify(settings: Settings, tenant: str, item_id: str) -> int:
    from duban.items.repository import ItemRepository
    from duban.items.routes import location_of
    from duban.platform import Platform

    platform = Platform(settings)
    try:
        async with platform.db.transaction(tenant) as session:
            item = await ItemRepository(session, tenant).get(item_id)
        if not item.archive:
            print(f"item {item_id} is not archived (state {item.state})", file=sys.stderr)
            return 1
        report = await platform.archive.verify(location_of(item))
    finally:
        await platform.db.dispose()
    loc = report.location
    print(f"dossier {loc.archival_code} at s3://{loc.bucket}/{loc.prefix}: {report.files_checked} files checked")
    for problem in report.problems:
        print(f"  PROBLEM: {problem}")
    print("OK: every file matches its manifest" if report.ok else "FAILED: the dossier does not match")
    return 0 if report.ok else 1


async def _audit(settings: Settings, tenant: str) -> int:
    from duban.audit import history
    from duban.audit.service import verify
    from duban.platform import build_database

    db = build_database(settings)
    try:
        async with db.transaction(tenant) as session:
            verdicts = {"audit": await verify(session, tenant), "history": await history.verify(session)}
    finally:
        await db.dispose()
    for chain, verdict in verdicts.items():  # the audit log, then the items' history
        if verdict.ok:
            print(f"{tenant}: {chain} chain whole, {verdict.rows} rows, {verdict.checked}")
        else:
            print(f"{tenant}: {chain} chain BROKEN: {verdict.problem} ({verdict.checked})", file=sys.stderr)
    return 0 if all(v.ok for v in verdicts.values()) else 1


async def _inbox(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from duban.events.repository import InboxRepository
    from duban.lists.cursor import PageRequest
    from duban.platform import Platform

    platform = Platform(settings)
    by = f"cli:{getpass.getuser()}"
    try:
        async with platform.db.transaction(args.tenant) as session:
            if args.inbox_command == "list":
                for r in (await InboxRepository(session, args.tenant).list(args.status, PageRequest(args.limit))).rows:
                    print(f"{r.received_at:%Y-%m-%d %H:%M:%S}  {r.status:<9} {r.id}  {r.kind:<32} seq {r.seq}  "
                          f"{r.item_ref} from {r.from_tenant}" + (f"\n    {r.reason}" if r.reason else ""))
            elif args.inbox_command == "gaps":
                found = await platform.inbox.gaps(session, args.tenant)
                for g in found:
                    print(f"{g.item_ref} from {g.from_tenant}: applied up to seq {g.last_applied}, missing "
                          f"{g.missing or '(a rejected event)'}, {len(g.parked)} waiting since "
                          f"{g.waiting_since:%Y-%m-%d %H:%M:%S}{'  OVERDUE' if g.overdue else ''}")
                    print(f"    first waiting event: {g.parked[0]}")
                print(f"{len(found)} gaps")
            elif args.inbox_command == "replay":
                row = await platform.inbox.replay(session, args.tenant, args.event_id, by)
                print(f"event {row.id} ({row.kind}) replayed: {row.status}")
            else:
                row = await platform.inbox.skip(session, args.tenant, args.event_id, by, args.reason)
                print(f"event {row.id} ({row.kind}): {row.status} — {row.reason}")
    finally:
        await platform.db.dispose()
    return 0


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from duban.events.keys import Keyring
    from duban.platform import build_registry, hosted_tenants

    registry = build_registry(settings)
    ring = Keyring(settings.keys_path, settings.private_keys_path, hosted_tenants(settings, registry))
    if args.keys_command in ("rotate", "retire") and args.tenant not in ring.hosted:
        raise DubanError(f"tenant {args.tenant} is not hosted by this node (DUBAN_HOSTED_TENANTS)")
    if args.keys_command == "init":
        created = ring.init()
        print(f"new keys for {len(created)} tenants{': ' + ', '.join(created) if created else ''}; "
              f"public keys in {ring.keys_dir}, private keys in {ring.private_keys_dir}")
    elif args.keys_command == "rotate":
        print(f"{args.tenant}: new key {ring.rotate(args.tenant)} signs from now on; the old one still verifies. "
              f"Copy {ring.public_file(args.tenant)} to every node, then `duban keys retire {args.tenant}`")
    elif args.keys_command == "retire":
        print(f"{args.tenant}: retired {', '.join(ring.retire(args.tenant)) or 'nothing'}")
    else:
        for tenant in registry.tenants:
            ids = list(ring.public_keys(tenant.code))
            signs = " (signs here)" if tenant.code in ring.hosted and ring.private_file(tenant.code).exists() else ""
            print(f"{tenant.code:<14} {', '.join(ids) or 'NO KEY'}{signs}")
    return 0


def _nats_config(settings: Settings, args: argparse.Namespace) -> int:
    from duban.events.natsconf import NodeUser, check_nodes, load_nodes, render, write_config
    from duban.platform import build_registry

    registry = build_registry(settings)
    nodes = load_nodes(args.nodes, registry) if args.nodes else []
    for spec in args.node:
        name, _, tenants = spec.partition("=")
        nodes.append(NodeUser(name.strip(), tuple(t.strip() for t in tenants.split(",") if t.strip())))
    if not nodes:
        raise DubanError("name the nodes: --nodes FILE or --node NAME=T1,T2")
    check_nodes(nodes, registry)
    if args.out:
        write_config(args.out, nodes, settings.nats_stream)
        print(f"wrote {args.out}: {len(nodes)} users; each node's password comes from the NATS server's "
              f"environment ({', '.join(n.password_variable for n in nodes)})")
    else:
        print(render(nodes, settings.nats_stream), end="")
    return 0


def _iso_date(text: str):  # noqa: ANN202
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效日期 (not a date): {text!r}, write YYYY-MM-DD") from None


async def _calendar(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from duban.calendar.notice import notice_to_toml, read_notice_file
    from duban.calendar.schemas import CalendarYearRead
    from duban.calendar.service import REFRESH_SECONDS, correction, incomplete, load_notice, read_calendar
    from duban.calendar.workdays import WorkCalendar
    from duban.platform import build_database, build_registry
    from duban.timesource import time_source

    # A bad file is refused before the database is touched.
    notice = read_notice_file(args.file) if args.calendar_command == "load" else None
    db_registry = build_registry(settings)
    db = build_database(settings, db_registry)
    try:
        if notice is not None:
            by = f"cli:{getpass.getuser()}"
            result = await load_notice(db, notice, by, await read_calendar(db),
                                       correction(notice, by, time_source(settings.fixed_time).today(), db_registry))
            if result.failed:
                print(f"duban: {incomplete(result).message}", file=sys.stderr)
                return 1
            print(f"{notice.year}年节假日安排已载入 {len(result.tenants)} 个单位 (loaded into {len(result.tenants)} "
                  f"tenants: {', '.join(result.tenants)})")
            _print_year(CalendarYearRead.of(WorkCalendar([result.loaded]), notice.year))
            print(f"running nodes take it within {REFRESH_SECONDS:.0f} s")
            return 0
        cal = await read_calendar(db)
    finally:
        await db.dispose()
    if args.calendar_command == "after":
        print(cal.add_workdays(args.date, args.n).isoformat())
    elif args.toml:
        print(notice_to_toml(cal.notice(args.year)), end="")
    else:
        _print_year(CalendarYearRead.of(cal, args.year))
    return 0


def _print_year(view) -> None:  # noqa: ANN001
    from duban.calendar.notice import WEEKDAYS

    def day(d) -> str:  # noqa: ANN001
        return f"{d.isoformat()}（周{WEEKDAYS[d.weekday()]}）"

    print(f"{view.year}年 — 来源 source: {view.source}")
    print(f"通知 notice: {view.notice}" + (f"，{view.published.isoformat()} 发布" if view.published else ""))
    if view.loaded_at is not None:
        print(f"载入 loaded: {view.loaded_at:%Y-%m-%d %H:%M:%S} UTC by {view.loaded_by}")
    print("假期 holidays:")
    for h in view.holidays:
        makeup = f"  调休上班 make-up: {', '.join(day(d) for d in h.makeup_workdays)}" if h.makeup_workdays else ""
        print(f"  {h.name}  {day(h.start)} 至 {day(h.end)}，{h.days}天{makeup}")
    print(f"调休上班日 make-up working days: {', '.join(d.isoformat() for d in view.makeup_workdays) or '无 none'}")
    print(f"全年工作日 working days in {view.year}: {view.workdays}")


# -- the embedded platform -----------------------------------------------------------------------------
def _s3_credentials(directory: Path) -> tuple[str, str]:
    """Made once per data dir and kept, so a restart opens the same archive."""
    from duban.db.database import private_file

    path = directory / "credentials.json"
    if path.exists():
        path.chmod(0o600)  # also one written before this rule
        data = json.loads(path.read_text())
        return data["access_key"], data["secret_key"]
    private_file(path)  # 0600 (in a 0700 folder) before the secret is written into it
    access, secret = "duban", secrets.token_hex(20)
    path.write_text(json.dumps({"access_key": access, "secret_key": secret}))
    return access, secret


def _embedded_nats_users(settings: Settings, data: Path) -> tuple[str, str, Path]:
    """The embedded platform's NATS user (one node hosting every tenant), its password (made once and
    kept), the nats-server config holding it, and every hosted tenant's signing key."""
    from duban.events.keys import Keyring
    from duban.events.natsconf import NodeUser, write_config
    from duban.platform import build_registry, hosted_tenants

    registry = build_registry(settings)
    tenants = hosted_tenants(settings, registry)
    path = data / "nats-credentials.json"
    if path.exists():
        password = json.loads(path.read_text())["password"]
    else:
        password = secrets.token_urlsafe(24)
        path.touch(mode=0o600)
        path.write_text(json.dumps({"user": "node", "password": password}))
    path.chmod(0o600)
    Keyring(settings.with_(data_dir=data).keys_path, settings.with_(data_dir=data).private_keys_path, tenants).init()
    config = write_config(data / "nats-auth.conf", [NodeUser("node", tuple(tenants), password)], settings.nats_stream)
    return "node", password, config


def _settings_of_running_up(data_dir: Path) -> Settings:
    path = data_dir / RUNTIME_FILE
    if not path.exists():
        raise DubanError(f"{path} not found: is `duban up --data-dir {data_dir}` running?")
    runtime = json.loads(path.read_text())
    return Settings.from_env(data_dir=data_dir, **{k: runtime.get(k) for k in (
        "nats_url", "s3_endpoint", "s3_access_key", "s3_secret_key", "nats_user", "nats_password")})


def up(data_dir: Path | None, host: str | None, port: int | None) -> int:
    """Start NATS and S3 as children, then every tenant in this process; Ctrl-C stops it all."""
    from duban.runtime import NatsServerProcess, S3ServerProcess, port_is_free

    settings = Settings.from_env(data_dir=data_dir, host=host, port=port)
    data = settings.data_dir.resolve()
    if not port_is_free(settings.port, settings.host):
        raise DubanError(f"port {settings.port} on {settings.host} is in use: pick another with --port")
    data.mkdir(parents=True, exist_ok=True, mode=0o700)  # databases, S3 keys and NATS store live here
    access, secret = _s3_credentials(data / "s3")
    nats_user, nats_password, nats_config = _embedded_nats_users(settings, data)
    nats = NatsServerProcess(data / "nats", log_file=data / "logs" / "nats-server.log", config_file=nats_config)
    s3 = S3ServerProcess(data / "s3", access_key=access, secret_key=secret, log_file=data / "logs" / "weed.log")
    (data / "logs").mkdir(exist_ok=True)
    runtime_file = data / RUNTIME_FILE
    try:
        print(f"starting NATS and the S3 archive store in {data} ...", flush=True)
        # Started from this (main) thread on purpose: the children's parent-death signal fires
        # when the *thread* that spawned them ends.
        try:
            nats.start()
            s3.start()
        except RuntimeError as exc:
            raise DubanError(f"cannot start the embedded servers: {exc} — is another `duban up` using "
                             f"{data}? Stop it, or choose another --data-dir") from exc
        settings = settings.with_(data_dir=data, nats_url=nats.url, s3_endpoint=s3.endpoint,
                                  s3_access_key=access, s3_secret_key=secret, nats_user=nats_user,
                                  nats_password=nats_password)
        runtime_file.write_text(json.dumps({
            "nats_url": nats.url, "s3_endpoint": s3.endpoint, "s3_access_key": access, "s3_secret_key": secret,
            "nats_user": nats_user, "nats_password": nats_password,
        }))
        runtime_file.chmod(0o600)
        return asyncio.run(_serve(settings, seed=True, on_ready=_banner))
    finally:
        runtime_file.unlink(missing_ok=True)
        print("stopping NATS and S3 ...", flush=True)
        nats.stop()
        s3.stop()


def _banner(settings: Settings, logins: list[tuple[str, str, list[str]]]) -> None:
    from duban.accounts.service import DEMO_PASSWORD

    url = f"http://{settings.host}:{settings.port}"
    lines = [
        "", "=" * 72, f" 督查督办 platform: {url}   (API schema: {url}/schema)",
        f" 登录 (web pages, log in in a browser): {url}/login", f" data: {settings.data_dir}",
        f" NATS: {settings.nats_url}   S3: http://{settings.s3_endpoint}",
        f" demo accounts (password for all: {DEMO_PASSWORD}) — tenant / username / roles:",
    ]
    shown = [entry for entry in logins if entry[0] in ("city", "qingjiangpu", "huaian")]
    lines += [f"   {tenant:<12} {username:<11} {', '.join(roles)}" for tenant, username, roles in shown]
    others = sorted({t for t, _, _ in logins} - {"city", "qingjiangpu", "huaian"})
    if others:
        lines.append(f"   ... and the same chief/leader/handler/supervisor in: {', '.join(others)}")
    lines.append(f" approver/admin log in with a TOTP code too: .venv/bin/duban totp code --tenant city "
                 f"--user approver --data-dir {settings.data_dir}")
    lines += [" Ctrl-C stops everything.", "=" * 72, ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
