"""Names from outside (methods, grids, files of a submission) and the one function that makes them paths; the
strict YAML reader users' files go through. Property-based (hypothesis) beside the cases that once got through."""
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ddr.checks import MAX_NAME, MAX_PART, check_name, check_release_file, confined, name_key, release_file
from ddr.errors import DDRError
from ddr.yaml_input import load_yaml

HOSTILE_NAMES = ["../../../../outside/x", "..", ".", "a/../../b", "/etc/cron.d/x", "a/b", "a\\b", "nl\n!*",
                 "tab\there", "nul\x00", "", " ", "   ", "\t", " mine", "mine ", "mine.", ".hidden", "-rf",
                 "x" * (MAX_PART + 1), "DМ", "dm\u200b", "e\u0301", "a..b", "!negated", "#comment", "*", "a*b",
                 "[ab]", "~user", "$HOME", "a:b", "a|b", "a\rb", "\x1b[31mred"]
settings.register_profile("names", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = settings.get_profile("names")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_refused_in_one_line(tmp_path, name):
    for make in (lambda: check_name(name, "method"), lambda: confined(tmp_path, "digits-ipc1", name, what="method")):
        with pytest.raises(DDRError) as refused:
            make()
        assert "\n" not in str(refused.value) and "method" in str(refused.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DDRError):
        check_name("x" * (MAX_NAME + 1))


@pytest.mark.parametrize("name", ["mine", "dm v2", "SRe2L", "G-VBSM", "D4M", "mtt_1.5", "rded (ours)", "a+b",
                                  "x" * MAX_NAME])
def test_plain_names_are_kept(tmp_path, name):
    assert check_name(name) == name
    assert confined(tmp_path, "digits-ipc1", name) == tmp_path / "digits-ipc1" / name


@pytest.mark.parametrize("name, taken", [("Herding", ["herding"]), ("HERDING", ["random", "herding"]),
                                         ("her ding", ["herding"]), ("herding", ["herding"]), ("dm v2", ["DMv2"])])
def test_a_name_equal_to_a_taken_one_up_to_case_and_spaces_is_refused(name, taken):
    with pytest.raises(DDRError, match="already taken"):
        check_name(name, "method", taken=taken)


def test_a_symbolic_link_out_of_the_base_is_refused(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "base" / "mine-digits-ipc1").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(DDRError, match="leads out of"):
        confined(tmp_path / "base", "mine-digits-ipc1")


@NAMES
@given(st.text())
def test_any_text_is_refused_or_one_plain_folder_inside_the_base(tmp_path, text):
    try:
        name = check_name(text)
    except DDRError as exc:
        assert "\n" not in str(exc)
        event("refused")
        return
    event("accepted")
    assert name == text and name.isascii() and name.isprintable() and name == name.strip()
    assert Path(name).name == name and name not in (".", "..") and len(name) <= MAX_NAME
    assert confined(tmp_path, name).resolve().parent == tmp_path.resolve()


@NAMES
@given(st.lists(st.text(alphabet="./\\ \n\x00a~$", max_size=6), min_size=1, max_size=4))
def test_confined_never_leaves_its_base(tmp_path, parts):
    try:
        path = confined(tmp_path / "base", *parts)
    except DDRError:
        return
    assert (tmp_path / "base").resolve() in path.resolve().parents


@NAMES
@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=20), st.data())
def test_case_and_space_variants_of_a_taken_name_are_refused(name, data):
    flips = data.draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    variant = "".join(c.swapcase() if f else c for c, f in zip(name, flips))
    cut = data.draw(st.integers(1, len(variant)))
    if cut < len(variant):
        variant = variant[:cut] + " " + variant[cut:]
    assert name_key(variant) == name_key(name)
    with pytest.raises(DDRError, match="already taken"):
        check_name(variant, taken=[name])


@NAMES
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40), st.sampled_from(["hard", "soft"]),
       st.sampled_from(["test", "val"]))
def test_every_release_file_name_publish_writes_is_one_release_file_can_read(tmp_path, method, dataset, label,
                                                                              selection):
    """result_filename marks a name it changed with '~' (a method with a space, '(' or '+'): the release's
    names are checked by their own rule, which takes every name publish writes and keeps it in the folder."""
    from registry.ranking import Result, predictions_path, result_filename

    r = Result({"method": method, "dataset": dataset, "ipc": 10, "label": label, "kind": "lrs",
                "selection": {"mode": selection}}, Path("result.json"), "")
    for name in (f"results/{result_filename(r)}", predictions_path(f"results/{result_filename(r)}")):
        assert check_release_file(name) == name
        path = release_file(tmp_path, name)
        assert path.resolve().parent == (tmp_path / "results").resolve()
    event("marked with ~" if "~" in result_filename(r) else "kept")


@pytest.mark.parametrize("name", ["../x.json", "results/../../x.json", "/etc/passwd", "results//x.json",
                                  "results\\x.json", "results/x\n.json", "", "results/.", "results/..",
                                  "results/x y.json", "results/$HOME.json", None, 5, "x" * 256])
def test_a_release_file_name_that_is_not_one_publish_writes_is_refused_in_one_line(tmp_path, name):
    with pytest.raises(DDRError) as refused:
        release_file(tmp_path, name, "release result")
    assert "\n" not in str(refused.value) and "release result" in str(refused.value)


def test_a_release_file_behind_a_symbolic_link_out_of_the_release_is_refused(tmp_path):
    (tmp_path / "release").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "release" / "results").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(DDRError, match="leads out of"):
        release_file(tmp_path / "release", "results/digits-ipc1-hard-dm-lrs.json")


def test_a_key_given_twice_is_refused_in_one_line():
    for text in ("methods:\n  a: {random_seed: 1}\n  a: {random_seed: 2}\n", "ipc: [1]\nipc: [2]\n",
                 "{a: 1, a: 2}\n", "x:\n  - {k: 1, k: 1}\n"):
        with pytest.raises(DDRError, match="given twice") as refused:
            load_yaml(text, "spec.yaml")
        assert "\n" not in str(refused.value)
    # a merge key's values may be overridden: that is what YAML means by it
    assert load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n", "s") == {"base": {"x": 1, "y": 2},
                                                                              "c": {"x": 3, "y": 2}}
    with pytest.raises(DDRError, match="invalid YAML"):
        load_yaml("a: [1\n", "s")


@NAMES
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
                       st.one_of(st.integers(), st.text(string.ascii_letters, max_size=5), st.booleans()),
                       min_size=1, max_size=6), st.data())
def test_strict_yaml_reads_what_safe_load_reads_and_refuses_a_repeated_key(mapping, data):
    text = yaml.safe_dump(mapping)
    assert load_yaml(text, "s") == yaml.safe_load(text)
    again = data.draw(st.sampled_from(sorted(mapping)))
    with pytest.raises(DDRError, match=f"key '{again}' is given twice"):
        load_yaml(text + yaml.safe_dump({again: 0}), "s")
