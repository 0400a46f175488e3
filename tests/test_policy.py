"""The policy layer (Casbin files in policies/): what each role may do inside its tenant, and which
tenant may send which event to which (第九–十一条)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import casbin
import pytest

from duban.cli import main
from duban.errors import DubanError, Forbidden
from duban.policy import matrix
from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import load_registry
from helpers import DEEP_TREE as DEEP

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"


# The roles REQUIREMENTS.md names: 第二条 (inspector, approver) and 第十、十一条 (the rest); and the 系统管理员
# (administrator), who keeps the statutory calendar; a 督查组's members (group_member, 第四条2) and the
# registrar (登记员) of 建议提案.
# The archivist (档案管理员) verifies archived dossiers; the observer (领导查阅) reads everything, changes nothing.
ROLES = ("inspector", "approver", "chief", "leader_in_charge", "handler", "supervisor", "administrator",
         "group_member", "registrar", "archivist", "observer")

@pytest.fixture
def policy() -> Policy:
    # Fresh per test: grants change the enforcer.
    return Policy(POLICIES, load_registry(REPO / "tenants" / "huaian.toml"))


# ---- roles inside a tenant --------------------------------------------------------------------
# role, object, action, allowed — from REQUIREMENTS (第二条: inspector runs the procedure, approver
# approves plans; 第十条: chief signs completion off, handler does the work; 第十一条: supervisor sees
# all of its tenant's work). Denied lines keep the duties apart.
DECISIONS = [
    ("inspector", "item", "create", True),
    ("inspector", "item", "read", True),
    ("inspector", "item", "update", True),
    ("inspector", "item", "submit", True),
    ("inspector", "item", "withdraw", True),
    ("inspector", "item", "assign", True),
    ("inspector", "item", "complete", True),
    ("inspector", "item", "return", True),
    ("inspector", "item", "archive", True),
    ("inspector", "assignment", "read", True),
    ("inspector", "inbox", "read", True),
    ("inspector", "inbox", "replay", True),  # the 督查室 operates the platform (REQUIREMENTS, 第二条)
    ("inspector", "item", "supervise", True),  # 第四条4: 督办, 催办 by hand, decisions on 延期
    ("inspector", "item", "remind", True),
    ("inspector", "item", "decide_extension", True),
    ("inspector", "assignment", "request_extension", False),
    ("inspector", "item", "approve", False),
    ("inspector", "item", "reject", False),
    ("inspector", "assignment", "accept", False),
    ("inspector", "assignment", "request_completion", False),
    ("approver", "item", "read", True),
    ("approver", "item", "approve", True),
    ("approver", "item", "reject", True),
    ("approver", "assignment", "read", True),
    ("approver", "item", "assign", False),
    ("approver", "item", "create", False),
    ("approver", "item", "update", False),
    ("approver", "item", "submit", False),
    ("approver", "item", "archive", False),
    ("approver", "item", "decide_extension", False),
    ("approver", "assignment", "accept", False),
    ("chief", "item", "read", True),
    ("chief", "assignment", "read", True),
    ("chief", "assignment", "request_completion", True),
    ("chief", "assignment", "request_extension", True),
    ("chief", "item", "decide_extension", False),
    ("chief", "assignment", "accept", False),
    ("chief", "item", "create", False),
    ("chief", "item", "approve", False),
    ("chief", "item", "assign", False),
    ("leader_in_charge", "assignment", "read", True),
    ("leader_in_charge", "assignment", "accept", False),
    ("leader_in_charge", "assignment", "request_completion", False),
    ("leader_in_charge", "item", "create", False),
    ("leader_in_charge", "item", "approve", False),
    ("handler", "assignment", "read", True),
    ("handler", "assignment", "accept", True),
    ("handler", "assignment", "feedback", True),
    ("handler", "assignment", "request_extension", True),
    ("handler", "attachment", "upload", True),  # 反馈附件: the unit's handler and chief attach files
    ("chief", "attachment", "upload", True),
    ("inspector", "attachment", "upload", False),
    ("approver", "attachment", "upload", False),
    ("handler", "item", "remind", False),
    ("handler", "item", "supervise", False),
    ("handler", "assignment", "request_completion", False),
    ("handler", "item", "create", False),
    ("handler", "item", "approve", False),
    ("handler", "item", "assign", False),
    ("supervisor", "item", "read", True),
    ("supervisor", "assignment", "read", True),
    ("supervisor", "inbox", "read", True),
    ("supervisor", "inbox", "replay", True),  # a tenant's own 督查机构 operates its inbox
    ("handler", "inbox", "replay", False),
    ("chief", "inbox", "replay", False),
    ("approver", "inbox", "replay", False),
    ("supervisor", "item", "supervise", True),  # a tenant's 督查机构 supervises and reminds too
    ("supervisor", "item", "remind", True),
    # 分解 (issue 6): a tenant's 督查机构 runs the parts it splits off like the 督查室 runs items.
    ("supervisor", "item", "decide_extension", True),
    ("supervisor", "assignment", "split", True),
    ("supervisor", "item", "complete", True),
    ("supervisor", "item", "return", True),
    ("supervisor", "item", "close", True),
    ("handler", "assignment", "split", True),
    ("chief", "assignment", "split", False),
    ("approver", "item", "close", False),
    ("handler", "item", "close", False),
    ("supervisor", "figures", "read", True),
    ("inspector", "figures", "read", True),
    ("handler", "figures", "read", False),
    ("chief", "figures", "report", False),
    ("supervisor", "item", "create", False),
    ("supervisor", "item", "approve", False),
    ("supervisor", "item", "assign", False),
    ("supervisor", "assignment", "accept", False),
    ("supervisor", "assignment", "request_completion", False),
    ("administrator", "calendar", "load", True),  # loads each year's 国务院办公厅 holiday notice
    ("administrator", "item", "read", False),  # keeps reference data; no part in the procedure
    ("administrator", "item", "create", False),
    ("administrator", "assignment", "read", False),
    ("administrator", "inbox", "replay", False),
    ("inspector", "calendar", "load", False),
    ("supervisor", "calendar", "load", False),
    ("chief", "calendar", "load", False),
    # 第四条2: a group's members draft and send its items (only their own group's: test_group_scope below).
    ("group_member", "item", "create", True),
    ("group_member", "item", "update", True),
    ("group_member", "item", "submit", True),
    ("group_member", "item", "assign", True),
    ("group_member", "item", "read", True),
    ("group_member", "item_group", "own", True),
    ("group_member", "item_group", "any", False),
    ("group_member", "item", "approve", False),
    ("group_member", "item", "complete", False),
    ("group_member", "meeting", "create", False),
    ("inspector", "item_group", "any", True),
    ("inspector", "meeting", "create", True),
    ("inspector", "meeting", "read", True),
    ("approver", "meeting", "create", False),
    # 第三条5: the registrar registers 建议提案 and enters the proposer's rating; the unit replies.
    ("registrar", "proposal", "register", True),
    ("registrar", "proposal", "rate", True),
    ("registrar", "proposal", "reply", False),
    ("registrar", "item", "create", False),
    ("registrar", "item", "approve", False),
    ("inspector", "proposal", "register", False),
    ("inspector", "proposal", "rate", False),
    ("handler", "proposal", "reply", True),
    ("handler", "proposal", "consult", True),
    ("handler", "proposal", "rate", False),
    ("chief", "proposal", "reply", True),
    ("supervisor", "proposal", "reply", False),
    # 第十一条: the supervision division files 奖惩建议; its 第一责任人 and the tenant's leaders read them.
    ("supervisor", "merit_proposal", "create", True),
    ("supervisor", "merit_proposal", "read", True),
    ("chief", "merit_proposal", "read", True),
    ("chief", "merit_proposal", "create", False),
    ("observer", "merit_proposal", "read", True),
    ("observer", "merit_proposal", "create", False),
    ("inspector", "merit_proposal", "create", False),
    ("handler", "merit_proposal", "read", False),
    ("leader_in_charge", "merit_proposal", "read", False),
    ("administrator", "merit_proposal", "read", False),
    # The tenant's administrator manages its users (accounts/); nobody else does.
    ("administrator", "users", "read", True),
    ("administrator", "users", "create", True),
    ("administrator", "users", "change", True),
    ("administrator", "users", "reset", True),
    ("supervisor", "users", "create", False),
    ("chief", "users", "change", False),
    ("inspector", "users", "reset", False),
    # 归档: the archivist reads and verifies dossiers, and has no part in the procedure.
    ("archivist", "item", "read", True),
    ("archivist", "assignment", "read", True),
    ("archivist", "archive", "verify", True),
    ("archivist", "item", "archive", False),
    ("archivist", "item", "create", False),
    ("archivist", "assignment", "accept", False),
    ("inspector", "archive", "verify", True),
    ("supervisor", "archive", "verify", True),
    ("handler", "archive", "verify", False),
    # 领导查阅: the observer reads everything of its tenant and changes nothing.
    ("observer", "item", "read", True),
    ("observer", "assignment", "read", True),
    ("observer", "meeting", "read", True),
    ("observer", "proposal", "read", True),
    ("observer", "figures", "read", True),
    ("observer", "inbox", "read", True),
    ("observer", "archive", "verify", True),
    ("observer", "item", "create", False),
    ("observer", "item", "approve", False),
    ("observer", "item", "remind", False),
    ("observer", "inbox", "replay", False),
    ("observer", "figures", "report", False),
    ("observer", "users", "read", False),
]


@pytest.mark.parametrize(("role", "obj", "act", "allowed"), DECISIONS,
                         ids=[f"{r}-{o}:{a}-{'allow' if ok else 'deny'}" for r, o, a, ok in DECISIONS])
@pytest.mark.parametrize("tenant", ["city", "qingjiangpu"])
def test_role_decisions(policy: Policy, tenant: str, role: str, obj: str, act: str, allowed: bool) -> None:
    actor = Actor(tenant, "zhang_san")
    policy.grant(tenant, "zhang_san", [role])
    assert policy.can(actor, obj, act) is allowed
    assert policy.can(actor, obj, act) is allowed, "the cached answer is the same"


def test_group_scope(policy: Policy, caplog: pytest.LogCaptureFixture) -> None:
    # 第四条2: the 督查室 acts for every group; a group member only for the group it belongs to.
    policy.grant("city", "li", ["group_member"], "group2")
    policy.grant("city", "zhou", ["inspector"])
    policy.grant("city", "wu", ["group_member"])  # a member of no group yet
    member, inspector, loose = Actor("city", "li"), Actor("city", "zhou"), Actor("city", "wu")
    assert policy.group_of(member) == "group2" and policy.group_of(inspector) is None
    assert policy.may_act_for_group(member, "group2")
    assert not policy.may_act_for_group(member, "group3")
    assert not policy.may_act_for_group(member, "mayor")
    assert all(policy.may_act_for_group(inspector, g) for g in ("mayor", "group1", "group2"))
    assert not policy.may_act_for_group(loose, "group2")
    assert not policy.may_act_for_group(Actor("qingjiangpu", "li"), "group2"), "membership is per tenant"
    with caplog.at_level(logging.WARNING, logger="duban.audit"), pytest.raises(Forbidden) as info:
        policy.authorize_group(member, "group3")
    assert "group2" in info.value.message and "group3" in info.value.message
    assert any("city/li" in r.getMessage() for r in caplog.records), "denials are audited"
    policy.grant("city", "li", ["group_member"], "group3")
    assert policy.may_act_for_group(member, "group3") and not policy.may_act_for_group(member, "group2")
    policy.grant("city", "li", ["group_member"])
    assert policy.group_of(member) is None and not policy.may_act_for_group(member, "group3")


def test_every_role_has_permissions(policy: Policy) -> None:
    assert policy.known_roles() == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("obj", "act"), [("item", "delete"), ("history", "update"), ("history", "delete"),
                                          ("item", "Read"), ("items", "read"), ("*", "*")])
def test_nobody_may_delete_records_or_use_wildcards(policy: Policy, role: str, obj: str, act: str) -> None:
    policy.grant("city", "wang", [role])
    assert not policy.can(Actor("city", "wang"), obj, act)


def test_roles_are_per_tenant(policy: Policy) -> None:
    policy.grant("city", "alice", ["inspector"])
    in_city, in_county = Actor("city", "alice"), Actor("qingjiangpu", "alice")
    assert policy.can(in_city, "item", "create")
    assert policy.roles_of(in_city) == ["inspector"]
    assert policy.roles_of(in_county) == []
    for obj, act in [("item", "create"), ("item", "read"), ("assignment", "read"), ("inbox", "read")]:
        assert not policy.can(in_county, obj, act), f"{obj}:{act} leaked into another tenant"


def test_same_username_in_two_tenants_keeps_separate_roles(policy: Policy) -> None:
    policy.grant("city", "li", ["approver"])
    policy.grant("qingjiangpu", "li", ["handler"])
    city, county = Actor("city", "li"), Actor("qingjiangpu", "li")
    assert policy.can(city, "item", "approve") and not policy.can(city, "assignment", "accept")
    assert policy.can(county, "assignment", "accept") and not policy.can(county, "item", "approve")
    policy.grant("city", "li", [])
    assert policy.roles_of(city) == []
    assert policy.roles_of(county) == ["handler"], "re-granting in city leaves the county's grant alone"


@pytest.mark.parametrize("role", ROLES)
def test_user_named_like_a_role_gets_nothing(policy: Policy, role: str) -> None:
    # Another user holds the role, so the role is live in the tenant.
    policy.grant("city", "someone", [role])
    namesake = Actor("city", role)
    assert policy.roles_of(namesake) == []
    for _, obj, act, _allowed in (d for d in DECISIONS if d[0] == role and d[3]):
        assert not policy.can(namesake, obj, act), f"user {role!r} got {obj}:{act} from its name"


def test_user_named_like_a_role_gets_only_its_grants(policy: Policy) -> None:
    policy.grant("city", "chief", ["handler"])
    chief = Actor("city", "chief")
    assert policy.can(chief, "assignment", "accept")
    assert not policy.can(chief, "assignment", "request_completion")


def test_grant_replaces_roles_and_clears_the_cache(policy: Policy) -> None:
    actor = Actor("city", "zhao")
    assert not policy.can(actor, "item", "approve")  # cached: denied
    policy.grant("city", "zhao", ["approver"])
    assert policy.can(actor, "item", "approve")  # cached: allowed
    assert not policy.can(actor, "item", "create")
    policy.grant("city", "zhao", ["inspector"])
    assert policy.roles_of(actor) == ["inspector"]
    assert not policy.can(actor, "item", "approve"), "the old role's cached decision survived the re-grant"
    assert policy.can(actor, "item", "create")
    policy.grant("city", "zhao", ["inspector", "supervisor"])
    assert policy.roles_of(actor) == ["inspector", "supervisor"]
    policy.grant("city", "zhao", [])
    assert policy.roles_of(actor) == []
    assert not policy.can(actor, "item", "create")


def test_authorize(policy: Policy, caplog: pytest.LogCaptureFixture) -> None:
    policy.grant("city", "qian", ["approver"])
    actor = Actor("city", "qian")
    assert policy.authorize(actor, "item", "approve") is None
    with caplog.at_level(logging.WARNING, logger="duban.audit"), pytest.raises(Forbidden) as info:
        policy.authorize(actor, "item", "assign")
    assert isinstance(info.value, DubanError)
    assert info.value.status_code == 403
    assert "item:assign" in info.value.message
    assert any("city/qian" in r.getMessage() and "item:assign" in r.getMessage() for r in caplog.records), \
        "denials are audited"


def test_actor_subject_and_ref() -> None:
    actor = Actor("qingjiangpu", "chief", "王局长")
    assert actor.subject == "u:chief"
    assert actor.ref == "qingjiangpu/chief"


# ---- events between tenants --------------------------------------------------------------------
DOWN = ["assignment.issued", "assignment.completed", "assignment.returned", "proposal.assigned", "proposal.rated"]
UP = ["assignment.accepted", "feedback.submitted", "assignment.completion_requested", "proposal.replied",
      "proposal.consulted"]

FLOWS = [
    # sender, receiver, kind, allowed
    ("city", "qingjiangpu", "assignment.issued", True),
    ("city", "fgw", "assignment.issued", True),
    ("city", "jkq", "assignment.issued", True),
    ("qingjiangpu", "city", "assignment.issued", False),
    ("qingjiangpu", "huaian", "assignment.issued", False),
    ("qingjiangpu", "city", "feedback.submitted", True),
    ("fgw", "city", "feedback.submitted", True),
    ("qingjiangpu", "huaian", "feedback.submitted", False),
    ("city", "qingjiangpu", "feedback.submitted", False),
    ("qingjiangpu", "city", "unknown.kind", False),
    ("city", "qingjiangpu", "unknown.kind", False),
    ("city", "qingjiangpu", "", False),
    ("city", "qingjiangpu", "ASSIGNMENT.ISSUED", False),
    ("nowhere", "city", "feedback.submitted", False),
    ("city", "nowhere", "assignment.issued", False),
    *[("city", "huaian", kind, True) for kind in DOWN],
    *[("huaian", "city", kind, False) for kind in DOWN],
    *[("huaian", "city", kind, True) for kind in UP],
    *[("city", "huaian", kind, False) for kind in UP],
    *[("city", "city", kind, False) for kind in DOWN + UP],
    *[("huaian", "huaian", kind, False) for kind in DOWN + UP],
]


@pytest.mark.parametrize(("sender", "receiver", "kind", "allowed"), FLOWS,
                         ids=[f"{s}->{r}:{k or 'empty'}" for s, r, k, _ in FLOWS])
def test_event_flow(policy: Policy, sender: str, receiver: str, kind: str, allowed: bool) -> None:
    assert policy.may_send(sender, receiver, kind) is allowed
    assert policy.may_send(sender, receiver, kind) is allowed, "the cached answer is the same"


DEEP_FLOWS = [
    ("city", "qjp_town", "assignment.issued", True),  # the subtree is transitive
    ("city", "qjp_village", "assignment.issued", True),
    ("qingjiangpu", "qjp_town", "assignment.issued", True),
    ("qingjiangpu", "qjp_village", "assignment.returned", True),
    ("qjp_town", "qjp_village", "assignment.issued", True),
    ("qjp_town", "city", "feedback.submitted", True),
    ("qjp_village", "city", "feedback.submitted", True),
    ("qjp_town", "qingjiangpu", "feedback.submitted", True),
    ("qjp_town", "qingjiangpu", "assignment.accepted", True),
    ("qjp_town", "huaian", "feedback.submitted", False),
    ("qjp_town", "ha_town", "feedback.submitted", False),
    ("qjp_town", "huaian", "assignment.issued", False),
    ("huaian", "qjp_town", "assignment.issued", False),
    ("ha_town", "qjp_town", "assignment.issued", False),
    ("qjp_town", "city", "assignment.issued", False),
    ("qjp_village", "qingjiangpu", "assignment.issued", False),
    ("city", "qjp_town", "feedback.submitted", False),
    ("qjp_town", "qjp_town", "assignment.issued", False),
]


@pytest.fixture
def deep_policy(tmp_path: Path) -> Policy:
    path = tmp_path / "deep.toml"
    path.write_text(DEEP, encoding="utf-8")
    return Policy(POLICIES, load_registry(path))


@pytest.mark.parametrize(("sender", "receiver", "kind", "allowed"), DEEP_FLOWS,
                         ids=[f"{s}->{r}:{k}" for s, r, k, _ in DEEP_FLOWS])
def test_event_flow_in_a_deeper_tree(deep_policy: Policy, sender: str, receiver: str, kind: str,
                                     allowed: bool) -> None:
    assert deep_policy.may_send(sender, receiver, kind) is allowed


def test_event_decisions_survive_a_grant(policy: Policy) -> None:
    # grant() clears the shared decision cache; event decisions must come back the same.
    assert policy.may_send("city", "qingjiangpu", "assignment.issued")
    policy.grant("city", "sun", ["inspector"])
    assert policy.may_send("city", "qingjiangpu", "assignment.issued")
    assert not policy.may_send("qingjiangpu", "city", "assignment.issued")


def test_every_signed_in_user_may_see_and_end_only_their_session(policy: Policy) -> None:
    nobody = Actor("qingjiangpu", "new-clerk")  # signed in, no roles yet
    assert policy.can(nobody, "session", "read") and policy.can(nobody, "session", "delete")
    for obj, act in [("item", "read"), ("assignment", "read"), ("inbox", "read"), ("session", "create")]:
        assert not policy.can(nobody, obj, act), (obj, act)
    assert "*" not in policy.known_roles()  # "*" is not a role anyone can be given


def test_every_signed_in_user_may_read_and_mark_their_notifications(policy: Policy) -> None:
    nobody = Actor("qingjiangpu", "new-clerk")  # signed in, no roles yet; the routes show only their own
    assert policy.can(nobody, "notification", "read") and policy.can(nobody, "notification", "update")
    for act in ("create", "delete", "Read"):
        assert not policy.can(nobody, "notification", act), act


def test_every_signed_in_user_may_read_the_calendar_and_only_an_administrator_loads_it(policy: Policy) -> None:
    nobody = Actor("qingjiangpu", "new-clerk")  # signed in, no roles yet: deadlines are counted in it
    assert policy.can(nobody, "calendar", "read")
    assert not policy.can(nobody, "calendar", "load")
    policy.grant("city", "root", ["administrator"])
    assert policy.can(Actor("city", "root"), "calendar", "load")


# ---- the responsibility network as a whole --------------------------------------------------------
READS = {"read", "verify"}


def test_the_observer_and_the_archivist_only_read(policy: Policy) -> None:
    for role in ("observer", "archivist"):
        lines = [(obj, act) for r, obj, act in policy.permissions() if r == role]
        assert lines, role
        assert {act for _, act in lines} <= READS, f"{role} may change something: {lines}"
    observer = {(obj, act) for r, obj, act in policy.permissions() if r == "observer"}
    # "everything of the tenant": whatever any procedure role may read, the observer reads too.
    procedure = {"inspector", "approver", "supervisor", "chief", "handler", "group_member", "leader_in_charge"}
    readable = {(obj, act) for r, obj, act in policy.permissions() if r in procedure and act in READS}
    assert readable <= observer, readable - observer


def test_plain_casbin_loads_the_files_and_agrees(policy: Policy) -> None:
    # The files are plain Casbin: pycasbin's own Enforcer, no index and no cache, loads them as they are
    # and decides every role x every (object, action) of the files, plus some never granted, as we do.
    plain = casbin.Enforcer(str(POLICIES / "model.conf"), str(POLICIES / "roles.csv"))
    asked = sorted({(obj, act) for _, obj, act in policy.permissions()}) + [("item", "delete"), ("users", "drop")]
    for tenant in ("city", "qingjiangpu", "fgw"):
        for role in ROLES:
            user = f"{role}-{tenant}"
            policy.grant(tenant, user, [role])
            plain.add_role_for_user_in_domain(f"u:{user}", role, tenant)
    policy.grant("city", "two-hats", ["handler", "observer"])
    plain.add_role_for_user_in_domain("u:two-hats", "handler", "city")
    plain.add_role_for_user_in_domain("u:two-hats", "observer", "city")
    actors = [Actor(t, f"{r}-{t}") for t in ("city", "qingjiangpu", "fgw") for r in ROLES]
    actors += [Actor("city", "two-hats"), Actor("city", "nobody"), Actor("qingjiangpu", f"{ROLES[0]}-city")]
    allowed = 0
    for actor in actors:
        for obj, act in asked:
            ours = policy.can(actor, obj, act)
            assert ours is bool(plain.enforce(actor.subject, obj, act, actor.tenant)), (actor, obj, act)
            allowed += ours
    assert 0 < allowed < len(actors) * len(asked)
    events = casbin.Enforcer(str(POLICIES / "events.conf"), str(POLICIES / "events.csv"))
    assert {kind for kind, *_ in events.get_policy()} >= set(DOWN + UP)


def test_the_readme_matrix_matches_the_files() -> None:
    assert not matrix.drifted(POLICIES), "policies/README.md has drifted from the csv: run `duban policy matrix`"
    text = (POLICIES / "README.md").read_text(encoding="utf-8")
    for role in ROLES:
        assert f"`{role}`" in text, role


def test_the_matrix_follows_a_change_of_the_files(tmp_path: Path) -> None:
    for name in ("model.conf", "roles.csv", "events.conf", "events.csv", "README.md"):
        shutil.copy(POLICIES / name, tmp_path / name)
    assert not matrix.drifted(tmp_path)
    with (tmp_path / "roles.csv").open("a", encoding="utf-8") as f:
        f.write("p, observer, item, remind\n")
    assert matrix.drifted(tmp_path), "a new grant must show as drift"
    assert main(["policy", "matrix", "--check", "--policies-dir", str(tmp_path)]) == 1
    hand = (tmp_path / "README.md").read_text(encoding="utf-8").replace("# Policies", "# Policies (edited by hand)")
    (tmp_path / "README.md").write_text(hand, encoding="utf-8")
    assert main(["policy", "matrix", "--policies-dir", str(tmp_path)]) == 0
    assert main(["policy", "matrix", "--check", "--policies-dir", str(tmp_path)]) == 0
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "# Policies (edited by hand)" in text, "the hand-written text is kept"
    [row] = [line.split("|") for line in text.splitlines() if line.startswith("| `item` | `remind` |")]
    [header] = [line.split("|") for line in text.splitlines() if line.startswith("| object | action |")]
    cell = dict(zip([c.strip(" `") for c in header], [c.strip() for c in row], strict=True))
    assert cell["observer"] == "✓" and cell["inspector"] == "✓" and cell["handler"] == ""


def test_a_grant_drops_only_its_own_tenants_cached_decisions(policy: Policy) -> None:
    policy.grant("city", "a", ["inspector"])
    policy.grant("qingjiangpu", "b", ["handler"])
    assert policy.can(Actor("city", "a"), "item", "create")
    assert policy.can(Actor("qingjiangpu", "b"), "assignment", "accept")
    before = policy.cached_decisions("city")
    policy.grant("qingjiangpu", "c", ["chief"])
    assert policy.cached_decisions("city") == before > 0
    assert policy.cached_decisions("qingjiangpu") == 0


def test_reloading_a_tenant_replaces_its_grants_and_leaves_the_others(policy: Policy,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    policy.grant("city", "a", ["inspector"])
    policy.grant("qingjiangpu", "b", ["handler"])
    policy.grant("qingjiangpu", "m", ["group_member"], "group1")
    city, county = Actor("city", "a"), Actor("qingjiangpu", "b")
    assert policy.can(city, "item", "create") and not policy.can(city, "item", "approve")
    assert policy.can(county, "assignment", "accept")
    cached = policy.cached_decisions("city")
    # City decisions must come from the cache from here on: make its enforcer fail if asked.
    monkeypatch.setattr(policy._tenants["city"], "enforce", lambda *a: pytest.fail("city's enforcer was asked"))
    policy.reload_tenant("qingjiangpu", [("b", ["chief"], None), ("n", ["group_member"], "group2")])
    assert policy.roles_of(county) == ["chief"]
    assert not policy.can(county, "assignment", "accept") and policy.can(county, "assignment", "request_completion")
    assert policy.roles_of(Actor("qingjiangpu", "m")) == [], "a user not in the reload has no grants left"
    assert policy.group_of(Actor("qingjiangpu", "m")) is None
    assert policy.group_of(Actor("qingjiangpu", "n")) == "group2"
    assert policy.cached_decisions("city") == cached
    assert policy.can(city, "item", "create") and not policy.can(city, "item", "approve")
    assert policy.roles_of(city) == ["inspector"]
