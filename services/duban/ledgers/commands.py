"""``duban ledger import FILE --tenant T --user U``: the same import as ``POST /api/items/import``, from the
command line of a node, attributed to a user of the tenant (their roles decide, as over HTTP). Prints the
report as JSON; exit status 0 when the rows were imported (or checked), 1 when the import was refused."""

from __future__ import annotations

import argparse

from duban.accounts.repository import AccountRepository
from duban.accounts.service import load_grants
from duban.audit import service as audit
from duban.calendar.service import read_calendar
from duban.context import TenantContext
from duban.errors import Forbidden, InvalidInput
from duban.ledgers import service, sheet
from duban.platform import Platform
from duban.policy.policy import Actor
from duban.settings import Settings


async def run_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import ``args.file`` into ``args.tenant`` as ``args.user``; print the report."""
    platform = Platform(settings)
    tenant = args.tenant
    try:
        if tenant not in platform.tenants:
            raise InvalidInput(f"本节点不承载单位 {tenant} (tenant {tenant} is not hosted here)")
        if not args.file.is_file():
            raise InvalidInput(f"文件 {args.file} 不存在 (no such file)")
        if args.file.stat().st_size > sheet.MAX_BYTES:
            raise sheet.too_large()
        data = args.file.read_bytes()
        async with platform.db.transaction(tenant) as session:
            accounts = AccountRepository(session, tenant)
            await load_grants(accounts, platform.policy)
            user = await accounts.by_username(args.user)
        if user is None or not user.active:
            raise InvalidInput(f"单位 {tenant} 没有可用的用户 {args.user} (no active user {args.user})")
        actor = Actor(tenant, user.username, user.display_name)
        calendar = await read_calendar(platform.db)
        target = f"cli: duban ledger import {args.file.name}"
        try:
            platform.policy.authorize(actor, "item", "import")
        except Forbidden as exc:
            async with platform.db.transaction(tenant) as session:
                await audit.record(session, tenant, actor.ref, "denied", target, platform.time.now(), exc.message)
            raise
        async with platform.db.transaction(tenant) as session:
            ctx = TenantContext(tenant, session, actor, platform.registry, platform.policy, calendar, platform.time)
            report = await service.import_ledger(ctx, args.file.name, data,
                                                 service.Options(args.mode, args.group, args.division))
        print(service.report_json(report))
        return 0 if report.status_code == 200 else 1
    finally:
        await platform.db.dispose()
