"""The one atomic write: the path given, through symlinks, keeping permissions, refusing
special files, and leaving the old file whole when a write fails."""
import os
import stat

import pytest

from gradhopper.runtime import atomicwrite
from gradhopper.runtime.errors import GradhopperError


def test_writes_the_path_given_and_no_suffix_is_added(tmp_path):
    target = tmp_path / "weights"
    atomicwrite.write_text(target, "one\n")
    assert target.read_text() == "one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights"]


def test_a_new_file_gets_the_umask_and_an_old_one_keeps_its_mode(tmp_path):
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.json"
        atomicwrite.write_text(fresh, "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    finally:
        os.umask(old)
    private = tmp_path / "private.json"
    private.write_text("old")
    private.chmod(0o600)
    atomicwrite.write_text(private, "new")
    assert private.read_text() == "new"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomicwrite.write_text(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


@pytest.mark.parametrize("path, says", [
    ("/dev/full", "not a regular file"),
    ("/dev/null", "not a regular file"),
])
def test_special_files_are_refused_and_nothing_is_created_beside_them(path, says):
    before = set(os.listdir("/dev"))
    with pytest.raises(GradhopperError, match=f"cannot write {path}: it is {says}"):
        atomicwrite.write_text(path, "x")
    assert set(os.listdir("/dev")) <= before


def test_folders_missing_folders_and_long_names_are_one_line(tmp_path):
    with pytest.raises(GradhopperError, match="give a file name, not a folder"):
        atomicwrite.write_text(f"{tmp_path}/out/", "x")
    with pytest.raises(GradhopperError, match="it is a folder"):
        atomicwrite.write_text(tmp_path, "x")
    with pytest.raises(GradhopperError, match="No such file or directory"):
        atomicwrite.write_text(tmp_path / "missing" / "a.npz", "x")
    with pytest.raises(GradhopperError, match="the folder .* does not exist"):
        atomicwrite.check(tmp_path / "missing" / "a.npz")
    with pytest.raises(GradhopperError, match="the name is too long"):
        atomicwrite.write_text(tmp_path / ("n" * 300), "x")


def test_a_failing_fill_leaves_the_old_file_whole_and_no_temporary(tmp_path):
    target = tmp_path / "train.py"
    target.write_text("print('old')\n")

    def fill(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(GradhopperError, match="No space left on device"):
        atomicwrite.write(target, fill)
    assert target.read_text() == "print('old')\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]
