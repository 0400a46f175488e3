"""The deploy files and the settings agree (Docker can't run here, so check what can be checked)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import yaml

from duban.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SETTINGS = {f"DUBAN_{f.name.upper()}" for f in fields(Settings)}


def test_env_example_documents_exactly_the_settings():
    names = set(re.findall(r"^(DUBAN_[A-Z0-9_]+)=", (REPO / "deploy" / "env.example").read_text(), re.M))
    assert names == SETTINGS


def test_compose_has_the_production_shape_and_only_real_settings():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("postgres", "nats-1", "nats-2", "nats-3", "minio", "migrate", "city-node", "county-node"):
        assert name in services, name
    for name, service in services.items():
        env = service.get("environment") or {}
        unknown = {k for k in env if k.startswith("DUBAN_")} - SETTINGS
        assert not unknown, (name, unknown)
    assert services["county-node"]["environment"]["DUBAN_HOSTED_TENANTS"] == "qingjiangpu"
    for port in (services["city-node"]["ports"] + services["county-node"]["ports"]):
        assert str(port).startswith("127.0.0.1:"), port


def test_the_nats_users_match_the_nodes_file():
    from duban.events.natsconf import load_nodes, render
    from duban.tenancy.registry import load_registry

    nodes = load_nodes(REPO / "deploy" / "nodes.toml", load_registry(REPO / "tenants" / "huaian.toml"))
    assert (REPO / "deploy" / "nats" / "auth.conf").read_text() == render(nodes), \
        "regenerate: duban nats config --nodes deploy/nodes.toml --out deploy/nats/auth.conf"
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    for node in nodes:
        env = compose[f"{'city' if node.name == 'city' else 'county'}-node"]["environment"]
        assert env["DUBAN_NATS_USER"] == node.name and env["DUBAN_HOSTED_TENANTS"] == ",".join(node.tenants)
        assert node.password_variable in compose["nats-1"]["environment"]
    for n in (1, 2, 3):
        conf = (REPO / "deploy" / "nats" / f"nats-{n}.conf").read_text()
        assert "include ./auth.conf" in conf and conf.count("tls {") == 2
