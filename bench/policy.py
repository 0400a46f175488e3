"""How fast is one authorization decision at the scale of a large network, and what does reloading one
tenant's grants cost?

Grants: 250 tenants x 50 users (12,500 users, a few with two roles), the shipped model.conf and
roles.csv. In one run on this machine it measures, per single call (perf_counter_ns around each):

  first     Policy.can on a question never asked before: the tenant's FastEnforcer, then the cache
  cached    Policy.can on the same questions again: the tenant's decision cache
  plain     a plain casbin.Enforcer on the same files with the same grants (every call evaluates every
            permission line: what any Casbin implementation does without an index or a cache)

and prints median and p99 of each and the ratios to plain. Then it reloads one tenant's grants
(Policy.reload_tenant) several times, timing each reload, and shows that every other tenant's cached
decisions stay cached (their enforcers are not asked again) and unchanged, while the reloaded tenant
decides by its new grants. Run: .venv/bin/python bench/policy.py  (about a minute)
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import casbin

from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import Group, Registry, Tenant

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
TENANTS, USERS = 250, 50
SAMPLE = 4000  # questions timed one by one
SEED = 7


def roles_of_user(u: int, roles: list[str]) -> list[str]:
    """Every role appears in every tenant; every seventh user wears two hats."""
    first = roles[u % len(roles)]
    return [first, roles[(u + 3) % len(roles)]] if u % 7 == 0 else [first]


def build() -> tuple[Policy, list[str], dict[str, list[tuple[str, list[str], None]]], float]:
    tenants = [Tenant("city", "市政府办公室", "city_office", None)]
    tenants += [Tenant(f"t{i:03d}", f"单位{i}", "department", "city") for i in range(TENANTS - 1)]
    policy = Policy(POLICIES, Registry(tenants, [Group("mayor", "督查室", "市长", "city")]))
    roles = sorted(policy.known_roles())
    grants = {t.code: [(f"user{u}", roles_of_user(u, roles), None) for u in range(USERS)] for t in tenants}
    start = time.perf_counter()
    for code, rows in grants.items():
        policy.reload_tenant(code, rows)
    return policy, roles, grants, time.perf_counter() - start


def plain_enforcer(grants: dict[str, list[tuple[str, list[str], None]]], workdir: Path) -> casbin.Enforcer:
    """pycasbin's plain Enforcer on the same model and permission lines, the grants as g-lines of the csv."""
    csv = workdir / "roles_and_grants.csv"
    lines = [(POLICIES / "roles.csv").read_text(encoding="utf-8")]
    lines += [f"g, u:{user}, {role}, {tenant}" for tenant, rows in grants.items() for user, roles, _ in rows
              for role in roles]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return casbin.Enforcer(str(POLICIES / "model.conf"), str(csv))


def timed(fn: Callable[..., object], questions: list[tuple]) -> tuple[list[float], list[object]]:
    """Microseconds of each call, and the answers."""
    clock, out, answers = time.perf_counter_ns, [], []
    for q in questions:
        t0 = clock()
        answer = fn(*q)
        out.append((clock() - t0) / 1000)
        answers.append(answer)
    return out, answers


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_per_call(fn: Callable[..., object], questions: list[tuple], rounds: int = 1) -> float:
    """Mean CPU microseconds per call over an untimed pass (what other processes on the machine cannot inflate)."""
    t0 = time.process_time_ns()
    for _ in range(rounds):
        for q in questions:
            fn(*q)
    return (time.process_time_ns() - t0) / 1000 / rounds / len(questions)


def line(label: str, us: list[float], cpu: float, plain: list[float] | None = None,
         plain_cpu: float = 0.0) -> str:
    text = f"  {label:<30} median {statistics.median(us):8.2f} us  p99 {p(us, 0.99):9.2f} us  cpu {cpu:8.2f} us"
    if plain is not None:
        text += (f"   plain/this: median x{statistics.median(plain) / statistics.median(us):,.0f}, "
                 f"p99 x{p(plain, 0.99) / p(us, 0.99):,.0f}, cpu x{plain_cpu / cpu:,.0f}")
    return text


def main() -> int:
    began = time.perf_counter()
    policy, roles, grants, load_s = build()
    gc.collect()
    gc.freeze()  # as the app does at startup (app.py): the long-lived grants stay out of the collector's passes
    perms = sorted({(obj, act) for _, obj, act in policy.permissions()})
    asked = perms + [("item", "delete"), ("users", "drop")]  # and two that nobody is granted
    rng = random.Random(SEED)
    tenants = list(grants)
    everyone = [(t, f"user{u}") for t in tenants for u in range(USERS)]
    questions = list({(Actor(t, u), *rng.choice(asked)) for t, u in rng.sample(everyone, SAMPLE)})
    print(f"grants: {len(everyone):,} users in {len(tenants)} tenants ({len(roles)} roles); "
          f"permission lines: {len(policy.permissions())}; loaded in {load_s * 1000:.0f} ms")

    with tempfile.TemporaryDirectory() as workdir:
        t0 = time.perf_counter()
        plain = plain_enforcer(grants, Path(workdir))
        plain_load = time.perf_counter() - t0
    print(f"plain casbin.Enforcer: {len(plain.get_grouping_policy()):,} g-lines loaded in {plain_load * 1000:.0f} ms")

    first, ours = timed(policy.can, questions)
    cached, again = timed(policy.can, questions)
    plain_us, theirs = timed(lambda a, o, x: plain.enforce(a.subject, o, x, a.tenant), questions)
    wrong = [q for q, a, b in zip(questions, ours, theirs, strict=True) if a is not bool(b)]
    if wrong or ours != again:
        print(f"DISAGREE with plain casbin on {len(wrong)} of {len(questions)}: {wrong[:3]}")
        return 1
    plain_cpu = cpu_per_call(lambda a, o, x: plain.enforce(a.subject, o, x, a.tenant), questions[:1000])
    policy._decisions.clear()  # every tenant's cache: the next pass is all first decisions again
    first_cpu = cpu_per_call(policy.can, questions)
    cached_cpu = cpu_per_call(policy.can, questions, rounds=20)
    print(f"{len(questions):,} questions, each timed alone (wall clock: other processes on the machine show in "
          f"p99), then an untimed pass for CPU per call; all answers agree with plain casbin ({sum(ours):,} allowed)")
    print(line("plain casbin.Enforcer", plain_us, plain_cpu))
    print(line("Policy.can, first (uncached)", first, first_cpu, plain_us, plain_cpu))
    print(line("Policy.can, cached", cached, cached_cpu, plain_us, plain_cpu))

    # -- reload one tenant's grants ----------------------------------------------------------------------
    target = "t123"
    others = [q for q in questions if q[0].tenant != target]
    cached_before = {t: policy.cached_decisions(t) for t in tenants if t != target}
    asked_enforcers = 0

    def count_calls(enforcer: casbin.FastEnforcer) -> None:
        inner = enforcer.enforce

        def counting(*rvals: str) -> bool:
            nonlocal asked_enforcers
            asked_enforcers += 1
            return inner(*rvals)

        enforcer.enforce = counting

    for code in tenants:
        if code != target:
            count_calls(policy._tenants[code])
    reloads = []
    for n in range(30):  # each reload gives every user of the tenant the next role
        rows = [(user, [roles[(u + n + 1) % len(roles)]], None) for u, (user, _, _) in enumerate(grants[target])]
        t0 = time.perf_counter_ns()
        policy.reload_tenant(target, rows)
        reloads.append((time.perf_counter_ns() - t0) / 1e6)
        assert policy.cached_decisions(target) == 0
    after_us, after = timed(policy.can, others)
    unchanged = after == [ours[questions.index(q)] for q in others]
    kept = all(policy.cached_decisions(t) == n for t, n in cached_before.items())
    # The reloaded tenant decides by its new grants (user u now holds roles[(u + 30) % len(roles)] only).
    new_role = roles[(5 + 30) % len(roles)]
    obj, act = next((o, a) for r, o, a in policy.permissions() if r == new_role)
    changed = policy.roles_of(Actor(target, "user5")) == [new_role] and policy.can(Actor(target, "user5"), obj, act)
    print(f"reload one tenant ({target}, {USERS} users) x{len(reloads)}: median {statistics.median(reloads):.2f} ms, "
          f"max {max(reloads):.2f} ms")
    print(f"  other {len(cached_before)} tenants: {sum(cached_before.values()):,} cached decisions before, "
          f"{sum(policy.cached_decisions(t) for t in cached_before):,} after; their enforcers asked "
          f"{asked_enforcers} times for {len(others):,} questions again; answers unchanged: {unchanged}")
    print(line("other tenants after it", after_us, cpu_per_call(policy.can, others, rounds=20), plain_us,
               plain_cpu))
    print(f"  {target} decides by its new grants: {changed} (user5 is now {new_role}: {obj}:{act} allowed)")
    ok = unchanged and kept and asked_enforcers == 0 and changed
    print(f"{'PASS' if ok else 'FAIL'}: reload touches only its tenant; total {time.perf_counter() - began:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
