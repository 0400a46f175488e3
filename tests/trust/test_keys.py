"""Signing keys: made 0600 in a 0700 directory, one public file per tenant, two keys during a rotation."""

from __future__ import annotations

import json

import msgspec

from duban.db.base import new_id, utcnow
from duban.events.envelope import Envelope, encode
from duban.events.keys import Keyring


def _envelope(sender: str = "qingjiangpu") -> Envelope:
    return Envelope(id=new_id(), kind="feedback.submitted", from_tenant=sender, to_tenant="city",
                    item_ref="city/x", seq=1, occurred_at=utcnow(), actor=f"{sender}/handler",
                    payload={"text": "进展顺利", "b": 1, "a": [1, 2]})


def test_init_makes_private_keys_for_the_hosted_tenants_only(tmp_path):
    ring = Keyring(tmp_path / "keys", tmp_path / "private", ["city", "qingjiangpu"])
    assert ring.init() == ["city", "qingjiangpu"]
    assert ring.init() == []  # kept
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o700
    assert {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "private").iterdir()} == {
        "city.key": 0o600, "qingjiangpu.key": 0o600}
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["city.pub", "qingjiangpu.pub"]
    assert (tmp_path / "keys" / "city.pub").read_text().startswith("ed25519 ")
    assert "PRIVATE" not in (tmp_path / "keys" / "city.pub").read_text()


def test_a_signature_verifies_however_the_json_is_laid_out_and_nothing_can_change(tmp_path):
    ring = Keyring(tmp_path / "keys", tmp_path / "private", ["qingjiangpu"])
    ring.init()
    envelope = ring.sign(_envelope())
    assert ring.verify(envelope) is None
    # Another layout of the same JSON (reordered keys, spaces) still verifies: the canonical form is signed.
    fields = json.loads(encode(envelope))
    relaid = json.dumps(dict(reversed(list(fields.items()))), ensure_ascii=False, indent=1).encode()
    assert ring.verify(msgspec.json.decode(relaid, type=Envelope)) is None
    for change in ({"seq": 2}, {"to_tenant": "huaian"}, {"from_tenant": "huaian"}, {"actor": "city/inspector"},
                   {"payload": {**envelope.payload, "text": "已完成"}}, {"key_id": "0" * 16}):
        assert ring.verify(msgspec.structs.replace(envelope, **change)) is not None, change
    assert ring.verify(msgspec.structs.replace(envelope, sig="")).startswith("unsigned")


def test_rotation_two_keys_verify_then_the_old_one_is_retired(tmp_path):
    county = Keyring(tmp_path / "keys", tmp_path / "county", ["qingjiangpu"])
    county.init()
    city = Keyring(tmp_path / "keys", tmp_path / "city", ["city"])  # another node, same public keys
    city.init()
    before = county.sign(_envelope())
    assert city.verify(before) is None

    new_id_ = county.rotate("qingjiangpu")
    assert len((tmp_path / "keys" / "qingjiangpu.pub").read_text().splitlines()) == 2
    after = county.sign(_envelope())
    assert after.key_id == new_id_ != before.key_id
    # The city node picks the new key up (and drops the retired one, below) without a restart.
    assert city.verify(after) is None and city.verify(before) is None

    assert county.retire("qingjiangpu") == [before.key_id]
    assert city.verify(after) is None
    assert city.verify(before) == f"bad signature: key {before.key_id} is not a key of qingjiangpu"


def test_a_node_cannot_sign_for_a_tenant_it_does_not_host(tmp_path):
    ring = Keyring(tmp_path / "keys", tmp_path / "private", ["city"])
    ring.init()
    try:
        ring.sign(_envelope("qingjiangpu"))
    except Exception as exc:  # noqa: BLE001
        assert "no private key for tenant qingjiangpu" in str(exc)
    else:
        raise AssertionError("signed for a tenant it does not host")
