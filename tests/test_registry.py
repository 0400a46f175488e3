"""The tenant registry: the shipped Huai'an tree loads, and every broken file is refused with an error
that names the file, the field and the problem (so an operator can fix it without reading code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.cli import main
from duban.tenancy.registry import RegistryError, load_registry
from helpers import DEEP_TREE as DEEP

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "tenants" / "huaian.toml"

COUNTIES = {"清江浦区", "淮安区", "淮阴区", "洪泽区", "涟水县", "盱眙县", "金湖县"}

# ---- the shipped registry ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry():
    return load_registry(SHIPPED)


def test_city_office_is_the_only_root(registry) -> None:
    roots = [t for t in registry.tenants if t.parent is None]
    assert [t.code for t in roots] == ["city"]
    city = registry.get("city")
    assert city.name == "淮安市人民政府办公室"
    assert city.kind == "city_office"
    assert registry.source == str(SHIPPED)


def test_seven_counties_are_children_of_city(registry) -> None:
    counties = [t for t in registry.tenants if t.kind == "county"]
    assert {t.name.removesuffix("人民政府") for t in counties} == COUNTIES
    assert all(t.parent == "city" for t in counties)
    assert {t.code for t in counties} <= {t.code for t in registry.children("city")}


def test_departments_and_groups(registry) -> None:
    departments = [t for t in registry.tenants if t.kind == "department" and t.parent == "city"]
    assert len(departments) >= 6
    # Below the city's, the counties' own departments (分解 goes on down the tree).
    county_departments = [t for t in registry.tenants if t.kind == "department" and t.parent != "city"]
    assert county_departments and all(registry.get(t.parent).kind == "county" for t in county_departments)
    assert registry.groups, "the city's 督查组 are declared"
    assert all(g.tenant == "city" and g.leader and g.name for g in registry.groups)
    assert registry.group("mayor").leader == "市长"
    assert registry.group("nowhere") is None


def test_leaders_and_the_groups_of_their_portfolios(registry) -> None:
    # 第四条2: the mayor's items go to the 督查室, each vice-mayor's to the group of their portfolio.
    assert registry.leader("mayor").group == "mayor" and registry.leader("mayor").title == "市长"
    assert registry.leader("exec_vice_mayor").title == "常务副市长"
    assert {leader.title for leader in registry.leaders} >= {"市长", "常务副市长", "副市长"}
    assert all(registry.group(leader.group) is not None for leader in registry.leaders)
    assert len({leader.group for leader in registry.leaders}) == len(registry.leaders), "one portfolio, one group"
    assert registry.leader("nobody") is None
    assert registry.get("city").second_reply_months == 1, "PRACTICE.md: a second reply within 1 month"


def test_lookup(registry) -> None:
    assert "qingjiangpu" in registry
    assert "nowhere" not in registry
    assert registry.get("nowhere") is None
    assert registry.get("qingjiangpu").division_code == "320812"


def test_tree_queries_on_the_shipped_registry(registry) -> None:
    assert registry.is_below("qingjiangpu", "city")
    assert registry.is_below("fgw", "city")
    assert not registry.is_below("city", "qingjiangpu")
    assert not registry.is_below("city", "city"), "strictly below: a tenant is not below itself"
    assert not registry.is_below("qingjiangpu", "huaian"), "siblings are not below each other"
    assert not registry.is_below("nowhere", "city")
    assert registry.ancestors("city") == []
    assert registry.ancestors("qingjiangpu") == ["city"]
    assert registry.ancestors("nowhere") == []
    assert registry.children("nowhere") == []
    # Two counties have departments and towns, and one city department has a unit of its own (issue 6).
    for county in ("qingjiangpu", "huaian"):
        kinds = {t.kind for t in registry.children(county)}
        assert {"department", "town"} <= kinds, county
    assert [t.kind for t in registry.children("gaj")] == ["unit"]
    assert registry.ancestors("qjp_changxi_sq") == ["qjp_changxi", "qingjiangpu", "city"]
    assert registry.is_below("qjp_changxi_sq", "city") and not registry.is_below("qjp_changxi_sq", "huaian")
    non_roots = {t.code for t in registry.tenants if t.code != "city"}
    assert {t.code for t in registry.children("city")} | {
        t.code for t in registry.tenants if t.parent not in (None, "city")} == non_roots
    edges = registry.tree_edges()
    assert len(edges) == len(non_roots)
    assert set(edges) == {(t.code, t.parent) for t in registry.tenants if t.parent}


def test_tree_queries_on_a_deeper_tree(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(DEEP, encoding="utf-8")
    reg = load_registry(path)
    assert reg.ancestors("qjp_village") == ["qjp_town", "qingjiangpu", "city"]
    assert reg.is_below("qjp_village", "city"), "the subtree is transitive"
    assert reg.is_below("qjp_town", "qingjiangpu")
    assert not reg.is_below("qjp_town", "huaian")
    assert not reg.is_below("qingjiangpu", "qjp_town")
    assert [t.code for t in reg.children("qingjiangpu")] == ["qjp_town"]
    assert [t.code for t in reg.children("qjp_town")] == ["qjp_village"]
    assert sorted(reg.tree_edges()) == sorted([
        ("qingjiangpu", "city"), ("huaian", "city"), ("qjp_town", "qingjiangpu"), ("qjp_village", "qjp_town"),
        ("ha_town", "huaian"),
    ])
    assert reg.groups == []


# ---- broken files ----------------------------------------------------------------------------------

CITY = '[[tenants]]\ncode = "city"\nname = "市政府办公室"\nkind = "city_office"\n'


def tenant(code: str = "qingjiangpu", parent: str | None = "city", **extra: object) -> str:
    """One [[tenants]] table; ``extra`` overrides or adds keys (given as TOML literals)."""
    values: dict[str, object] = {"code": f'"{code}"', "name": '"某单位"', "kind": '"county"'}
    if parent is not None:
        values["parent"] = f'"{parent}"'
    values.update(extra)
    body = "".join(f"{key} = {value}\n" for key, value in values.items() if value is not None)
    return "\n[[tenants]]\n" + body


def group(code: str = "group1", tenant: str = "city", **extra: object) -> str:
    values: dict[str, object] = {"code": f'"{code}"', "name": '"第一督查组"', "leader": '"常务副市长"',
                                 "tenant": f'"{tenant}"'}
    values.update(extra)
    body = "".join(f"{key} = {value}\n" for key, value in values.items() if value is not None)
    return "\n[[groups]]\n" + body


def leader(code: str = "vice_mayor", group: str = "group1", **extra: object) -> str:
    values: dict[str, object] = {"code": f'"{code}"', "name": '"某副市长"', "title": '"副市长"',
                                 "group": f'"{group}"'}
    values.update(extra)
    body = "".join(f"{key} = {value}\n" for key, value in values.items() if value is not None)
    return "\n[[leaders]]\n" + body


BROKEN = [
    # id, file text, field, (part of) the problem
    ("wrong type of code", CITY + tenant("huaian") + tenant("xuyi").replace('"xuyi"', "5"),
     "tenants[2].code", "Expected `str`, got `int`"),
    ("wrong type of parent", CITY + tenant(parent=None) + "parent = 7\n",
     "tenants[1].parent", "Expected `str | null`, got `int`"),
    ("wrong type of tenants", 'tenants = "city"\n',
     "tenants", "Expected `array`, got `str`"),
    ("wrong type of group tenant", CITY + group(tenant="x").replace('tenant = "x"', "tenant = 3"),
     "groups[0].tenant", "Expected `str`, got `int`"),
    ("missing name", CITY + tenant(name=None),
     "tenants[1]", "missing required field `name`"),
    ("missing tenants", 'name = "淮安"\n',
     "(file)", "missing required field `tenants`"),
    ("missing group leader", CITY + group(leader=None),
     "groups[0]", "missing required field `leader`"),
    ("unknown tenant field", CITY + tenant(colour='"red"'),
     "tenants[1]", "unknown field `colour`"),
    ("unknown top-level field", 'owner = "x"\n' + CITY,
     "(file)", "unknown field `owner`"),
    ("unknown kind", CITY + tenant(kind='"village"'),
     "tenants[1].kind", "Invalid enum value 'village'"),
    ("code upper case", CITY + tenant("Qingjiangpu"),
     "tenants[1].code", "'Qingjiangpu' must be 2-31 lower-case letters, digits or _"),
    ("code with dash", CITY + tenant("qing-jiangpu"),
     "tenants[1].code", "must be 2-31 lower-case"),
    ("code too short", CITY + tenant("q"),
     "tenants[1].code", "must be 2-31 lower-case"),
    ("code too long", CITY + tenant("q" * 32),
     "tenants[1].code", "must be 2-31 lower-case"),
    ("code starts with digit", CITY + tenant("1county"),
     "tenants[1].code", "must be 2-31 lower-case"),
    ("code in Chinese", CITY + tenant("清江浦"),
     "tenants[1].code", "must be 2-31 lower-case"),
    ("empty name", CITY + tenant(name='"  "'),
     "tenants[1].name", "must not be empty"),
    ("duplicate code", CITY + tenant("huaian") + tenant("huaian"),
     "tenants[2].code", "'huaian' is already used by tenants[1]"),
    ("unknown parent", CITY + tenant(parent="nowhere"),
     "tenants[1].parent", "unknown tenant 'nowhere'"),
    ("two roots", CITY + tenant("huaian", parent=None),
     "tenants", "exactly one tenant must have no parent, found 2"),
    ("no root", tenant("aa", parent="bb") + tenant("bb", parent="aa"),
     "tenants", "exactly one tenant must have no parent, found 0"),
    ("parent cycle", CITY + tenant("aa", parent="bb") + tenant("bb", parent="cc") + tenant("cc", parent="aa"),
     "tenants[1].parent", "the parent chain loops"),
    ("own parent", CITY + tenant("aa", parent="aa"),
     "tenants[1].parent", "the parent chain loops"),
    ("unknown group tenant", CITY + group(tenant="nowhere"),
     "groups[0].tenant", "unknown tenant 'nowhere'"),
    ("bad group code", CITY + group("Group-1"),
     "groups[0].code", "must be 2-31 lower-case"),
    ("duplicate group code", CITY + group("group1") + group("group2") + group("group1"),
     "groups[2].code", "'group1' is used twice"),
    ("unknown leader group", CITY + group("group1") + leader(group="group9"),
     "leaders[0].group", "unknown group 'group9'"),
    ("leader before any group", CITY + leader(),
     "leaders[0].group", "unknown group 'group1'"),
    ("bad leader code", CITY + group() + leader("Vice-Mayor"),
     "leaders[0].code", "must be 2-31 lower-case"),
    ("duplicate leader code", CITY + group() + leader("mayor") + leader("mayor"),
     "leaders[1].code", "'mayor' is already used by leaders[0]"),
    ("empty leader title", CITY + group() + leader(title='" "'),
     "leaders[0].title", "must not be empty"),
    ("empty leader name", CITY + group() + leader(name='""'),
     "leaders[0].name", "must not be empty"),
    ("missing leader group", CITY + group() + leader().replace('group = "group1"\n', ""),
     "leaders[0]", "missing required field `group`"),
    ("unknown leader field", CITY + group() + leader(office='"x"'),
     "leaders[0]", "unknown field `office`"),
    ("second reply months out of range", CITY + tenant(second_reply_months=0),
     "tenants[1].second_reply_months", "Expected `int` >= 1"),
    ("invalid TOML", CITY + "[[tenants]\ncode = \"x\"\n",
     "(syntax)", "not valid TOML"),
    ("unterminated string", 'name = "淮安\n' + CITY,
     "(syntax)", "not valid TOML"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants" / "broken.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_names(err: RegistryError, path: Path, field: str, problem: str) -> None:
    assert err.file == str(path)
    assert err.field == field
    assert problem in err.problem
    message = str(err)
    assert str(path) in message and field in message and problem in message


@pytest.mark.parametrize(("text", "field", "problem"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_file_names_file_field_and_problem(tmp_path: Path, text: str, field: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert_names(info.value, path, field, problem)
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "tenants" / "absent.toml"
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert_names(info.value, path, "(file)", "cannot be read: No such file or directory")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert_names(info.value, tmp_path, "(file)", "cannot be read")


GBK_FILE = ('[[tenants]]\ncode = "city"\nname = "淮安市人民政府办公室"\nkind = "city_office"\n').encode("gbk")


def test_file_not_in_utf8(tmp_path: Path) -> None:
    # A registry edited on a Windows desktop in the default Chinese code page is a likely mistake.
    path = tmp_path / "tenants" / "gbk.toml"
    path.parent.mkdir()
    path.write_bytes(GBK_FILE)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert info.value.file == str(path)
    assert "UTF-8" in info.value.problem or "utf-8" in info.value.problem


# ---- the CLI -------------------------------------------------------------------------------------


def test_cli_check_good_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "check", str(SHIPPED)]) == 0
    out, err = capsys.readouterr()
    assert str(SHIPPED) in out and "ok" in out
    assert "25 tenants, 4 groups" in out
    assert "duban:" not in err


CLI_CASES = [case for case in BROKEN if case[0] in
             {"wrong type of code", "unknown parent", "parent cycle", "unknown group tenant", "invalid TOML"}]


@pytest.mark.parametrize(("text", "field", "problem"), [case[1:] for case in CLI_CASES],
                         ids=[case[0] for case in CLI_CASES])
def test_cli_check_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, field: str,
                               problem: str) -> None:
    path = write(tmp_path, text)
    assert main(["tenants", "check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("duban: ")
    assert str(path) in err and field in err and problem in err


def test_cli_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.toml"
    assert main(["tenants", "check", str(path)]) == 2
    _, err = capsys.readouterr()
    assert str(path) in err and "(file)" in err and "cannot be read" in err


def test_cli_check_defaults_to_the_settings_file(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("DUBAN_TENANTS_FILE", raising=False)
    assert main(["tenants", "check"]) == 0
    assert "tenants/huaian.toml" in capsys.readouterr().out


def test_cli_check_file_not_in_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(GBK_FILE)
    assert main(["tenants", "check", str(path)]) == 2
    assert str(path) in capsys.readouterr().err
