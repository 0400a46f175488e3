"""How fast is one authorize() decision at city scale?

Grants: 100 tenants x 50 users (5,000 role assignments), the shipped model and permission lines.
Compares, in one run on this machine:
  baseline  a plain casbin.Enforcer, every call evaluating every line (what a naive layer does)
  indexed   duban's FastEnforcer alone (lines indexed by object and action), no cache
  policy    duban's Policy.can: the indexed enforcer behind the decision cache
Prints decisions per second and the ratios. Run: .venv/bin/python bench/policy.py
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import casbin

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
    indexed = policy._roles  # the enforcer itself, without the cache
    plain = casbin.Enforcer(str(ROOT / "policies" / "model.conf"), str(ROOT / "policies" / "roles.csv"))
    for actor in actors:
        for role in indexed.get_roles_for_user_in_domain(actor.subject, actor.tenant):
            plain.add_role_for_user_in_domain(actor.subject, role, actor.tenant)

    def baseline(actor, obj, act):
        return plain.enforce(actor.subject, obj, act, actor.tenant)

    def uncached(actor, obj, act):
        return indexed.enforce(actor.subject, obj, act, actor.tenant)

    assert all(baseline(*r) == uncached(*r) == policy.can(*r) for r in requests), "the three disagree"
    rates = {"baseline": measure(baseline, requests), "indexed": measure(uncached, requests),
             "policy": measure(policy.can, requests)}
    print(f"grants: {len(actors)} users in 100 tenants; permission lines: {len(plain.get_policy())}")
    labels = {"baseline": "plain casbin.Enforcer", "indexed": "FastEnforcer, no cache", "policy": "Policy.can (cached)"}
    for name, rate in rates.items():
        print(f"{labels[name]:<24}: {rate:12,.0f} decisions/s ({1e6 / rate:8.1f} us each)"
              f"   x{rate / rates['baseline']:.1f} vs baseline")


if __name__ == "__main__":
    main()
