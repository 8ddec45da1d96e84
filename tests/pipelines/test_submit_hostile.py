"""`ddr submit` as a hostile or careless user runs it: every case is one line on stderr, exit status 2, and
nothing written, moved or deleted anywhere (the project, a folder outside it, the submitted folder)."""
import hashlib
import os
import shutil
import socket
import stat
from pathlib import Path

import pytest
import torch
import yaml

from ddr.data import load_dataset, random_baseline, write_distilled
from tests.pipelines.dvc_project import make_pipeline_repo, submit

GIB = 1 << 30


def _snapshot(root: Path) -> dict:
    """Every entry under root, links not followed: kind, size, mtime and (small files) content."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            digest = None
            if stat.S_ISREG(st.st_mode) and st.st_size < (1 << 20):
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[p.relative_to(root).as_posix()] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """root/project: the reduced pipeline (a reference distiller's output made); root/outside/x-digits-ipc1:
    a folder outside it that a hostile name aims at; root/secret/credentials; root/good: a valid set."""
    root = tmp_path_factory.mktemp("hostile")
    repo = make_pipeline_repo(root / "project")
    digits = load_dataset("digits")
    write_distilled(repo / "data" / "distilled" / "digits-herding-ipc1", random_baseline(digits, 1, 5))
    (repo / "submissions" / "kept-digits-ipc1").mkdir()  # an earlier copy a refusal must not remove
    (repo / "submissions" / "kept-digits-ipc1" / "marker").write_text("still here\n")
    (root / "outside" / "x-digits-ipc1").mkdir(parents=True)
    (root / "outside" / "x-digits-ipc1" / "precious").write_text("do not delete\n")
    (root / "secret").mkdir()
    (root / "secret" / "credentials").write_text("TOKEN=hunter2\n")
    write_distilled(root / "good", random_baseline(digits, 1, 77))
    return root


def _set(world: Path, name: str) -> Path:
    """A fresh copy of the valid set, to be spoiled by the case."""
    dst = world / "sources" / name
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(world / "good", dst)
    return dst


def _linked_file(w, s):
    (s / "README.txt").symlink_to(w / "secret" / "credentials")


def _linked_folder(w, s):
    (s / "extra").symlink_to(w / "secret", target_is_directory=True)


def _linked_inner(w, s):
    (s / "notes").mkdir()
    (s / "notes" / "key").symlink_to(w / "secret" / "credentials")


def _hard_link(w, s):
    os.link(w / "secret" / "credentials", s / "README.txt")


def _fifo(w, s):
    os.mkfifo(s / "pipe")


def _socket(w, s):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(s / "sock"))
    sock.close()


def _device(w, s):
    try:
        os.mknod(s / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device file needs root")


def _sparse(w, s):
    with open(s / "junk.bin", "wb") as f:
        f.truncate(9 * GIB)  # apparent size over the 8 GiB file limit, no block written


def _sparse_total(w, s):
    for i in range(3):
        with open(s / f"junk{i}.bin", "wb") as f:
            f.truncate(6 * GIB)  # each under the file limit, together over the 16 GiB set limit


def _bad_file_name(w, s):
    (s / "notes\n!*").write_text("x")


def _nan_images(w, s):
    images = torch.load(s / "images.pt")
    images[0, 0, 0, 0] = float("nan")
    torch.save(images, s / "images.pt")


def _same_as_reference(w, s):
    shutil.rmtree(s)
    write_distilled(s, random_baseline(load_dataset("digits"), 1, 5))  # what data/distilled/...herding holds


def _renamed_meta(w, s):  # the reference distiller's output with another meta.json: still the same content
    _same_as_reference(w, s)
    (s / "meta.json").write_text('{"method": "totally-new", "dataset": "digits", "ipc": 1}\n')


def _nothing(w, s):
    pass


# (case, how the set is spoiled, method, message)
CASES = [
    ("method climbs out", _nothing, "../../../../outside/x", "would leave its folder"),
    ("method climbs out of the project", _nothing, "../../outside/x", "would leave its folder"),
    ("absolute method", _nothing, "/tmp/x", "would leave its folder"),
    ("method with a separator", _nothing, "a/b", "would leave its folder"),
    ("method with a backslash", _nothing, "a\\b", "would leave its folder"),
    ("method dot-dot", _nothing, "..", "would leave its folder"),
    ("newline in method", _nothing, "nl\n!*", "control character"),
    ("carriage return in method", _nothing, "a\rb", "control character"),
    ("empty method", _nothing, "", "is empty"),
    ("blank method", _nothing, "   ", "is empty"),
    ("leading space", _nothing, " mine", "not a plain name"),
    ("trailing space", _nothing, "herding ", "not a plain name"),
    ("hidden method", _nothing, ".mine", "not a plain name"),
    ("option-like method", _nothing, "-rf", "not a plain name"),
    ("look-alike letter", _nothing, "DМ", "not a plain name"),
    ("long method", _nothing, "m" * 65, "at most 64"),
    ("reference distiller", _nothing, "herding", "reference distiller"),
    ("reference distiller by case", _nothing, "Herding", "already taken"),
    ("reference distiller by spaces", _nothing, "her ding", "already taken"),
    ("distiller ddr ships, not in this pipeline", _nothing, "dc", "already taken"),
    ("distiller ddr ships, by case", _nothing, "KCenter", "already taken"),
    ("linked file", _linked_file, "mine", "README.txt is a symbolic link"),
    ("linked folder", _linked_folder, "mine", "extra is a symbolic link"),
    ("link inside a folder", _linked_inner, "mine", "notes/key is a symbolic link"),
    ("hard link", _hard_link, "mine", "has 2 hard links"),
    ("fifo", _fifo, "mine", "pipe is a fifo"),
    ("socket", _socket, "mine", "sock is a socket"),
    ("device", _device, "mine", "null is a character device"),
    ("sparse file", _sparse, "mine", "junk.bin is 9.00 GiB; one file may be at most 8.00 GiB"),
    ("sparse files over the set limit", _sparse_total, "mine", "more than 16.00 GiB"),
    ("newline in a file name", _bad_file_name, "mine", "control character"),
    ("invalid set over an earlier copy", _nan_images, "kept", "NaN or Inf"),
    ("same content as a reference distiller", _same_as_reference, "mine", "same images and labels as reference "
                                                                          "distiller herding"),
    ("same content, another meta.json", _renamed_meta, "mine", "same images and labels"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_submit_is_one_line_exit_2_and_changes_nothing(world, ddr_cli, monkeypatch, case):
    _, spoil, method, message = case
    src = _set(world, case[0].replace(" ", "-"))
    spoil(world, src)
    before = _snapshot(world)
    monkeypatch.chdir(world / "project")
    code, out, err = ddr_cli("submit", str(src), "--method", method, "--dataset", "digits", "--ipc", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert "Traceback" not in err and out == ""
    assert _snapshot(world) == before  # nothing written, moved or deleted: project, outside, source


def test_submitting_the_project_or_a_folder_of_it_is_refused(world, ddr_cli, monkeypatch):
    repo = world / "project"
    before = _snapshot(world)
    monkeypatch.chdir(repo)
    for src, method in ((".", "mine"), ("submissions", "mine"), ("submissions/kept-digits-ipc1/..", "kept")):
        code, out, err = ddr_cli("submit", src, "--method", method, "--dataset", "digits", "--ipc", "1")
        assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert _snapshot(world) == before


def test_a_params_file_with_a_key_given_twice_is_refused(world, ddr_cli, monkeypatch, tmp_path):
    repo = shutil.copytree(world / "project", tmp_path / "project", symlinks=True)
    text = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(text + "submissions: []\n")  # a second `submissions:`
    before = _snapshot(tmp_path)
    monkeypatch.chdir(repo)
    code, out, err = ddr_cli("submit", str(world / "good"), "--method", "mine", "--dataset", "digits", "--ipc", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "params.yaml: invalid YAML" in err, err
    assert _snapshot(tmp_path) == before


def test_the_same_set_is_ranked_once_under_one_name(pipeline_repo, tmp_path, ddr_cli, monkeypatch):
    """A real submission (DVC runs), then the same images under other names and spellings: refused; the same
    name again replaces its own earlier copy."""
    repo = pipeline_repo
    digits = load_dataset("digits")
    write_distilled(tmp_path / "set", random_baseline(digits, 1, 77))
    write_distilled(tmp_path / "newer", random_baseline(digits, 1, 78))
    args = ("--dataset", "digits", "--ipc", "1")
    code, out, err = submit(repo, str(tmp_path / "set"), "--method", "dup1", *args)
    assert code == 0, err
    before = _snapshot(repo)
    monkeypatch.chdir(repo)  # refusals come before DVC runs: in this process
    for method, message in (("dup2", "same images and labels as submission dup1"), ("DUP1", "already taken"),
                            ("dup 1", "already taken")):
        code, out, err = ddr_cli("submit", str(tmp_path / "set"), "--method", method, *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert _snapshot(repo) == before
    code, out, err = submit(repo, str(tmp_path / "newer"), "--method", "dup1", *args)
    assert code == 0, err
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert [s["method"] for s in params["submissions"]] == ["dup1"]
    assert (repo / "submissions" / ".gitignore").read_text().splitlines() == ["/dup1-digits-ipc1"]
    assert sorted(p.name for p in (repo / "submissions").iterdir()) == [".gitignore", "README.md", "dup1-digits-ipc1",
                                                                       "dup1-digits-ipc1.dvc"]


def test_the_size_limits_hold_for_the_library_call(world, monkeypatch):
    """The limits are arguments of submit(): a set over a small total is refused before any copy."""
    from ddr.errors import DDRError
    from pipelines.submissions import submit as submit_set

    repo = world / "project"
    before = _snapshot(world)
    for limits in ({"max_file": 1000}, {"max_total": 5000}):
        with pytest.raises(DDRError, match="at most"):
            submit_set(world / "good", method="mine", dataset="digits", ipc=1, project=repo, **limits)
    assert _snapshot(world) == before
    # limits raised: a sparse file bigger than the disk's free space is still refused before any copy
    free = shutil.disk_usage(repo).free
    if free > 1 << 43:
        pytest.skip("more free space than a sparse test file can exceed")
    src = _set(world, "bigger-than-the-disk")
    with open(src / "junk.bin", "wb") as f:
        f.truncate(free + GIB)
    before = _snapshot(world)
    with pytest.raises(DDRError, match="are free"):
        submit_set(src, method="mine", dataset="digits", ipc=1, project=repo, max_file=1 << 46, max_total=1 << 46)
    assert _snapshot(world) == before
