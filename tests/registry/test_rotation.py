"""Key rotation and thresholds."""
from registry.keyring import Keyring, generate_key, keyid_of
from registry.ranking import load_results
from registry.release import publish
from registry.verify import verify_chain
from tests.registry.helpers import invoke, write_results


def test_rotation(tmp_path, keys):
    old, ring = keys
    rel = tmp_path / "releases"
    rs = load_results([write_results(tmp_path / "res")])
    publish(rs, rel, "1.0.0", [old], keyring=ring, resamples=50, repo=tmp_path)

    # keygen a new key into the same keyring, sign the next release with it
    code, out = invoke("keygen", "--out", tmp_path / "keys" / "new.key", "--keyring", ring.path, "--name", "maint-2027")
    assert code == 0, out
    ring = Keyring.load(ring.path)
    assert len(ring.keys) == 2
    code, out = invoke("publish", "1.1.0", "--results", tmp_path / "res", "--releases", rel, "--key",
                       tmp_path / "keys" / "new.key", "--keyring", ring.path, "--no-mlflow", "--resamples", 50)
    assert code == 0, out
    report = verify_chain(rel, ring)
    assert report.ok, report.error
    signers = [r.signers for r in report.releases]
    assert signers[0] == [keyid_of(old.public_key())] and signers[1] != signers[0]

    # a verifier that only trusts the new key rejects the old release ...
    only_new = Keyring({k: v for k, v in ring.keys.items() if k != keyid_of(old.public_key())}, path=None)
    assert str(verify_chain(rel, only_new).error).startswith("unknown key: 1.0.0/")
    # ... a verifier that only trusts the old key rejects the new one
    only_old = Keyring({keyid_of(old.public_key()): ring.keys[keyid_of(old.public_key())]})
    assert str(verify_chain(rel, only_old).error).startswith("unknown key: 1.1.0/")
    assert verify_chain(rel, only_old, upto="1.0.0").ok


def test_threshold_two_signers(tmp_path, keys):
    a, ring = keys
    b, _ = generate_key(tmp_path / "b.key")
    ring.add(b.public_key(), "b")
    ring.threshold = 2
    ring.save()
    rel = tmp_path / "releases"
    rs = load_results([write_results(tmp_path / "res")])
    publish(rs, rel, "1.0.0", [a, b], keyring=ring, resamples=50, repo=tmp_path)
    report = verify_chain(rel, Keyring.load(ring.path))
    assert report.ok and len(report.releases[0].signers) == 2
    publish(rs, rel, "1.1.0", [a], keyring=ring, resamples=50, repo=tmp_path)
    assert "threshold is 2" in str(verify_chain(rel, Keyring.load(ring.path)).error)


def test_trust_and_untrust_via_cli(tmp_path, keys):
    """Rotation across machines: the verifier gets the new key's .pub and trusts it; dropping the old
    key makes the releases it alone signed fail."""
    old, ring = keys
    rel = tmp_path / "releases"
    publish(load_results([write_results(tmp_path / "res")]), rel, "1.0.0", [old], resamples=50, repo=tmp_path)
    new, new_id = generate_key(tmp_path / "elsewhere" / "new.key")
    publish(load_results([write_results(tmp_path / "res2", seed=3)]), rel, "1.1.0", [new], resamples=50, repo=tmp_path)
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 1 and out.startswith("FAIL unknown key: 1.1.0/")
    code, out = invoke("trust", tmp_path / "elsewhere" / "new.key.pub", "--keyring", ring.path, "--name", "new")
    assert code == 0 and new_id in out
    # the verifier pinned the keyring it used; its own deliberate edit is re-pinned explicitly
    assert invoke("verify", "--releases", rel, "--keyring", ring.path)[1].startswith("FAIL keyring swap: ")
    assert invoke("verify", "--releases", rel, "--keyring", ring.path, "--accept-keyring")[0] == 0
    code, out = invoke("trust", keyid_of(old.public_key())[:12], "--remove", "--keyring", ring.path)
    assert code == 0
    # this verifier pinned the keyring it verified with: an unsigned edit looks like a swapped file ...
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path)
    assert code == 1 and out.startswith("FAIL keyring swap: ")
    # ... until its owner deliberately re-pins it
    code, out = invoke("verify", "--releases", rel, "--keyring", ring.path, "--accept-keyring")
    assert code == 1 and out.startswith("FAIL unknown key: 1.0.0/")
    code, out = invoke("trust", "zz", "--keyring", ring.path)
    assert code == 2 and "cannot read public key" in out
