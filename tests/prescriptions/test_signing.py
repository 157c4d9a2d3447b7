"""The platform key: from TELESANTE_PRESCRIPTION_KEY, a dev key file, never a default in production."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from telesante.prescriptions import public_id as ids
from telesante.prescriptions.signing import Signer, _cache, load_signer, new_key
from telesante.settings import Settings


def test_the_configured_key_signs_and_names_itself(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = new_key()
    monkeypatch.setenv("TELESANTE_PRESCRIPTION_KEY", key)
    signer = load_signer(Settings(data_dir=tmp_path))
    assert not (tmp_path / "prescription.key").exists()
    signature = signer.sign('{"a":1}')
    assert signer.verify(signer.key_id, '{"a":1}', signature)
    assert not signer.verify(signer.key_id, '{"a":2}', signature)
    other = Signer(Ed25519PrivateKey.generate())
    assert other.key_id != signer.key_id
    assert not other.verify(signer.key_id, '{"a":1}', signature)  # another key cannot vouch for it
    assert not other.verify(other.key_id, '{"a":1}', signature)


def test_production_refuses_to_make_a_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TELESANTE_PRESCRIPTION_KEY", raising=False)
    _cache.clear()
    with pytest.raises(RuntimeError, match="TELESANTE_PRESCRIPTION_KEY"):
        load_signer(Settings(data_dir=tmp_path, environment="production", secret_key="x" * 32))


def test_a_malformed_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELESANTE_PRESCRIPTION_KEY", "dG9vIHNob3J0")
    with pytest.raises(ValueError, match="32-byte"):
        load_signer(Settings(data_dir=tmp_path))


def test_public_ids_are_normalised_and_malformed_ones_rejected() -> None:
    public_id = ids.new_public_id()
    assert ids.normalise(ids.printed(public_id).lower()) == public_id
    assert ids.normalise("ORD-O1IL" + "0" * 16) == "ORD-0111" + "0" * 16  # misread letters
    for bad in ("", "ORD-", "ORD-" + "U" * 20, "XYZ-" + "0" * 20, "ORD-" + "0" * 21, "ORD-" + "0" * 100):
        assert ids.normalise(bad) is None
