"""The cosignatures a log keeps, checked against the tree verify rebuilt: a tree a listed witness
cosigned that the log now holds with another root is TAMPERED, with no checkpoint given, even
when every head was signed again with the key kept beside the log."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import load_or_create_key, open_state_log, signing_key
from stateline.audit.note import COSIGNATURE, Signer
from stateline.datadir import DataDir
from tests.audit import test_trusted
from tests.audit.test_trusted import Attacker, attacked, verify

data = test_trusted.data
"""WA's log: 30 entries, signed heads at 10, 20 and 30."""


def cosigned_by_a_witness(data: DataDir) -> Signer:
    witness = Signer("auditor.wa.example/w1", Ed25519PrivateKey.generate(), COSIGNATURE)
    data.config("WA").write_text(f'[[audit.witness]]\nurl = "http://127.0.0.1:9"\n'
                                 f'vkey = "{witness.verifier.vkey}"\n')
    with open_state_log(data, "WA") as log:
        head = log.latest_head()
        assert head is not None and head.head.size == 30
        log.add_cosignatures(head.head, [witness.sign(head.head.body(), 1_800_000_000)])
    return witness


def test_a_log_holding_the_tree_its_witness_cosigned_is_ok(data: DataDir) -> None:
    cosigned_by_a_witness(data)
    code, out, _ = verify(data, "--no-rollups")
    assert code == 0 and out.rstrip().endswith("OK")


def test_a_cosigned_tree_rewritten_and_signed_again_is_tampered(data: DataDir) -> None:
    cosigned_by_a_witness(data)
    key = load_or_create_key(signing_key(data, "WA"))

    def rewrite_and_sign_again(attacker: Attacker) -> None:
        attacker.edit(5)
        attacker.settle()
        attacker.resign(key)

    attacked(data, rewrite_and_sign_again)
    code, _, err = verify(data, "--no-rollups")
    assert code == 1
    assert ("TAMPERED: entry 30: rewritten: the tree of size 30 the witness "
            "auditor.wa.example/w1 cosigned has another root now") in err
