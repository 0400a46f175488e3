"""How fast is one authorize() decision at city scale?

Grants: 100 tenants x 50 users (5,000 role assignments), the shipped permission lines. Compares,
in one run on this machine:
  baseline  casbin.Enforcer.enforce on every call (what a naive layer does)
  policy    duban's Policy.can (the same enforcer behind a decision cache)
Prints decisions per second and the ratio. Run: .venv/bin/python bench/policy.py
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import Group, Registry, Tenant

ROOT = Path(__file__).resolve().parent.parent
ROLES = ["inspector", "approver", "chief", "leader_in_charge", "handler", "supervisor"]
CHECKS = [("item", "read"), ("item", "assign"), ("assignment", "accept"), ("assignment", "request_completion"),
          ("assignment", "feedback"), ("item", "approve"), ("inbox", "read")]


def build() -> tuple[Policy, list[Actor]]:
    tenants = [Tenant("city", "市政府办公室", "city_office", None)]
    tenants += [Tenant(f"t{i:03d}", f"单位{i}", "department", "city") for i in range(99)]
    policy = Policy(ROOT / "policies", Registry(tenants, [Group("mayor", "督查室", "市长", "city")]))
    actors = []
    for t in tenants:
        for u in range(50):
            policy.grant(t.code, f"user{u}", [ROLES[u % len(ROLES)]])
            actors.append(Actor(t.code, f"user{u}"))
    return policy, actors


def measure(fn, requests, seconds: float = 2.0) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for actor, obj, act in requests:
            fn(actor, obj, act)
        done += len(requests)
    return done / (time.perf_counter() - start)


def main() -> None:
    policy, actors = build()
    rng = random.Random(7)
    # A working day's mix: many users, repeated questions (the same clerk opens the same pages).
    requests = [(rng.choice(actors[:500]), *rng.choice(CHECKS)) for _ in range(2000)]
    raw = policy._roles  # the enforcer itself, without the cache

    def baseline(actor, obj, act):
        return raw.enforce(actor.subject, actor.tenant, obj, act)

    assert all(baseline(*r) == policy.can(*r) for r in requests), "cache and enforcer disagree"
    base = measure(baseline, requests)
    cached = measure(policy.can, requests)
    print(f"grants: {len(actors)} users in 100 tenants; permission lines: {len(raw.get_policy())}")
    print(f"baseline casbin.Enforcer.enforce : {base:12,.0f} decisions/s ({1e6 / base:8.1f} us each)")
    print(f"duban Policy.can (cached)        : {cached:12,.0f} decisions/s ({1e6 / cached:8.1f} us each)")
    print(f"ratio policy/baseline            : {cached / base:12.1f}x")


if __name__ == "__main__":
    main()
