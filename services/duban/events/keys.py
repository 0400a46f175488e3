"""Who may speak for a tenant: every event is signed by its sender tenant's Ed25519 key (ARCHITECTURE §4).

Why Ed25519 and not SM2: the ``cryptography`` package (OpenSSL, constant-time, maintained) signs and
verifies Ed25519; the SM2 packages on PyPI (``gmssl`` 3.2.2, last release 2023-02, and
``snowland-smx``) are pure-Python, not constant-time and not audited, and ``gmssl-python`` needs the
native GmSSL library. When a 国密 library that passes that bar exists, a second algorithm fits here:
the key lines carry the algorithm name.

Files (README, "Trust between nodes"):

- ``keys_dir/<tenant>.pub``: the tenant's public keys, one ``ed25519 <base64 raw key>`` line each (``#``
  comments allowed). Every node reads the whole directory, so it is shared (or copied) between nodes.
  Two lines during a rotation: both verify; the newest (last) line is the one being signed with.
- ``private_keys_dir/<tenant>.key``: the private key (PKCS#8 PEM), only on the node hosting the tenant;
  the file is 0600 and the directory 0700.

The signature covers the envelope's canonical bytes: every field except ``sig`` (``key_id`` included),
as msgspec JSON with sorted keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from duban.errors import DubanError
from duban.events.envelope import Envelope

ALGORITHM = "ed25519"


def canonical(envelope: Envelope) -> bytes:
    """The bytes a signature covers: every field but ``sig``, as JSON with sorted keys."""
    fields = msgspec.to_builtins(envelope)
    fields.pop("sig", None)
    return msgspec.json.encode(fields, order="sorted")


def key_id(public: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_line(public: Ed25519PublicKey, comment: str = "") -> str:
    """One line of a ``.pub`` file."""
    return f"{ALGORITHM} {base64.b64encode(_raw(public)).decode()}" + (f" {comment}" if comment else "")


def parse_public_file(path: Path) -> list[Ed25519PublicKey]:
    """The keys of a ``.pub`` file, oldest first (raises DubanError naming the line)."""
    keys = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if parts[0] != ALGORITHM:
                raise ValueError(f"unknown algorithm {parts[0]!r}")
            keys.append(Ed25519PublicKey.from_public_bytes(base64.b64decode(parts[1], validate=True)))
        except (ValueError, IndexError) as exc:
            raise DubanError(f"{path}:{n}: not a public key line ({exc})") from exc
    return keys


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a private key 0600 (atomically: a half-written key never replaces a good one)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_suffix(".key.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.replace(tmp, path)


def _read_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DubanError(f"{path}: not an Ed25519 private key")
    return key


class Keyring:
    """The public keys of every tenant, and the private keys of the tenants this node hosts."""

    def __init__(self, keys_dir: Path, private_keys_dir: Path, hosted: list[str] | tuple[str, ...]) -> None:
        self.keys_dir, self.private_keys_dir, self.hosted = Path(keys_dir), Path(private_keys_dir), list(hosted)
        self._public: dict[str, dict[str, Ed25519PublicKey]] = {}
        self._private: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        self._stamp: tuple | None = None  # the .pub files' names, sizes and times when last read

    # -- files -------------------------------------------------------------------------------
    def public_file(self, tenant: str) -> Path:
        return self.keys_dir / f"{tenant}.pub"

    def private_file(self, tenant: str) -> Path:
        return self.private_keys_dir / f"{tenant}.key"

    def init(self, tenants: list[str] | None = None) -> list[str]:
        """``duban keys init``: give every hosted tenant without a private key a new one, and make sure
        each private key's public half is in the tenant's ``.pub``. Returns the tenants given a key."""
        created = []
        for tenant in tenants or self.hosted:
            path = self.private_file(tenant)
            if not path.exists():
                _write_private(path, Ed25519PrivateKey.generate())
                created.append(tenant)
            path.parent.chmod(0o700)
            self._publish(tenant, _read_private(path).public_key())
        self._private.clear()
        return created

    def rotate(self, tenant: str) -> str:
        """A new key for ``tenant``: its public half is added to the ``.pub`` (the old one still verifies
        until ``retire``), and new events are signed with it. Returns the new key id."""
        key = Ed25519PrivateKey.generate()
        self._publish(tenant, key.public_key())  # first: a key others can't verify must never sign
        _write_private(self.private_file(tenant), key)
        self._private.pop(tenant, None)
        return key_id(key.public_key())

    def retire(self, tenant: str) -> list[str]:
        """End a rotation: keep only the key this node signs with; returns the retired key ids."""
        current = _read_private(self.private_file(tenant)).public_key()
        path = self.public_file(tenant)
        old = [key_id(k) for k in parse_public_file(path) if key_id(k) != key_id(current)]
        _write_text(path, public_line(current, f"{tenant} {time.strftime('%Y-%m-%d')}") + "\n")
        return old

    def _publish(self, tenant: str, public: Ed25519PublicKey) -> None:
        path = self.public_file(tenant)
        have = parse_public_file(path) if path.exists() else []
        if key_id(public) in {key_id(k) for k in have}:
            return
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        _write_text(path, text + public_line(public, f"{tenant} {time.strftime('%Y-%m-%d')}") + "\n")

    # -- keys ---------------------------------------------------------------------------------
    def _files(self) -> tuple:
        if not self.keys_dir.is_dir():
            return ()
        return tuple((p.name, st.st_size, st.st_mtime_ns) for p in sorted(self.keys_dir.glob("*.pub"))
                     for st in [p.stat()])

    def public_keys(self, tenant: str) -> dict[str, Ed25519PublicKey]:
        """The keys that verify ``tenant``'s events, by key id. The files are read again whenever they
        changed (a few stat calls): a key added by a rotation verifies, and a retired one stops
        verifying, without a restart."""
        stamp = self._files()
        if stamp != self._stamp:
            public: dict[str, dict[str, Ed25519PublicKey]] = {}
            for name, _, _ in stamp:
                path = self.keys_dir / name
                public[path.stem] = {key_id(k): k for k in parse_public_file(path)}
            self._public, self._stamp = public, stamp
        return self._public.get(tenant, {})

    def missing_private(self) -> list[str]:
        """Hosted tenants this node cannot sign for."""
        return [t for t in self.hosted if not self.private_file(t).exists()]

    def _signer(self, tenant: str) -> tuple[str, Ed25519PrivateKey]:
        if tenant not in self._private:
            path = self.private_file(tenant)
            if tenant not in self.hosted or not path.exists():
                raise DubanError(f"no private key for tenant {tenant} on this node ({path}): run `duban keys init`")
            key = _read_private(path)
            self._private[tenant] = (key_id(key.public_key()), key)
        return self._private[tenant]

    # -- signatures ---------------------------------------------------------------------------
    def sign(self, envelope: Envelope) -> Envelope:
        """The envelope signed by its sender (``from_tenant``), which this node must host."""
        kid, key = self._signer(envelope.from_tenant)
        unsigned = msgspec.structs.replace(envelope, key_id=kid, sig="")
        return msgspec.structs.replace(unsigned, sig=base64.b64encode(key.sign(canonical(unsigned))).decode())

    def verify(self, envelope: Envelope) -> str | None:
        """None if ``from_tenant`` signed this envelope; otherwise why not."""
        if not envelope.sig or not envelope.key_id:
            return f"unsigned: no signature of {envelope.from_tenant}"
        public = self.public_keys(envelope.from_tenant).get(envelope.key_id)
        if public is None:
            return f"bad signature: key {envelope.key_id} is not a key of {envelope.from_tenant}"
        try:
            public.verify(base64.b64decode(envelope.sig, validate=True), canonical(envelope))
        except (InvalidSignature, ValueError):
            return f"bad signature: not signed by {envelope.from_tenant} (key {envelope.key_id})"
        return None


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o644)
    os.replace(tmp, path)
