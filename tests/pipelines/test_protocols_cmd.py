"""`ddr protocols ls|show`: the table and the YAML, or with --json one document on stdout (the text on stderr)."""
import json

import yaml

from ddr.protocols import list_protocols, protocol_summary, raw_protocol
from tests.pipelines.conftest import FIXTURES


def test_protocols_ls_json_lists_every_shipped_protocol(ddr_cli):
    code, out, err = ddr_cli("protocols", "ls")
    assert code == 0 and "digits-lrs-hard" in out
    table = out
    code, out, err = ddr_cli("protocols", "ls", "--json")
    assert code == 0 and err.strip() == table.strip()  # the same table, on stderr
    doc = json.loads(out)
    assert [p["name"] for p in doc] == list_protocols()
    assert {p["name"]: p for p in doc}["digits-lrs-hard"] == protocol_summary("digits-lrs-hard")


def test_protocols_show_json_is_the_protocol_yaml_includes_merged(ddr_cli):
    for name in ("digits-lrs-soft", str(FIXTURES / "tiny-lrs.yaml")):
        code, out, err = ddr_cli("protocols", "show", name, "--json")
        assert code == 0, err
        assert json.loads(out) == raw_protocol(name) and yaml.safe_load(err) == raw_protocol(name)
    code, out, err = ddr_cli("protocols", "show", "digits-lrs-nope", "--json")
    assert code == 2 and out == "" and err.startswith("ddr: error:") and len(err.strip().splitlines()) == 1
