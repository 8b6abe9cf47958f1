"""`kusei publish`: a release copied to replicas' data directories, verified, switched together or not at all."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from kusei import cli
from kusei.distribute import PublishError, copy_file, publish
from kusei.release import CurrentRelease, Manifest, ManifestFile, digest_id, open_release


def current_id(data_dir: Path) -> str:
    return CurrentRelease(data_dir).latest().id


def derived_release(data_dir: Path, into: Path) -> Path:
    """A second, valid release: the built one with a changed dump (new checksum, new id)."""
    built = (data_dir / "current").resolve()
    release = into / "releases" / "next"
    shutil.copytree(built, release)
    manifest = Manifest.model_validate_json((release / "release.json").read_bytes())
    void = release / "dumps" / "void.ttl"
    void.write_bytes(void.read_bytes() + b"# a later release\n")
    files = [ManifestFile(**{**f.model_dump(), "bytes": void.stat().st_size,
                             "sha256": hashlib.sha256(void.read_bytes()).hexdigest()})
             if f.name == "void.ttl" else f for f in manifest.files]
    updated = manifest.model_copy(update={"files": files, "id": digest_id(files, manifest.search_index)})
    updated.write(release)
    final = release.with_name(updated.id)
    release.rename(final)
    (into / "current").symlink_to(Path("releases") / final.name)
    return into


@pytest.fixture
def replicas(data_dir: Path, tmp_path: Path) -> list[Path]:
    """Two replicas' data directories, both serving the built release."""
    targets = [tmp_path / "a", tmp_path / "b"]
    publish(data_dir, targets, report=lambda _: None)
    return targets


def test_a_release_is_copied_verified_and_made_current(data_dir: Path, replicas: list[Path]) -> None:
    built = current_id(data_dir)
    for target in replicas:
        assert current_id(target) == built
        release = open_release((target / "current").resolve())  # the store opens, as a server opens it
        source = (data_dir / "current").resolve()
        for path in release.manifest.held():
            assert (release.path / path).read_bytes() == (source / path).read_bytes(), path
        assert not list((target / "releases").glob(".build-*"))


def test_the_next_release_switches_every_replica(data_dir: Path, replicas: list[Path], tmp_path: Path) -> None:
    source = derived_release(data_dir, tmp_path / "next")
    published = publish(source, replicas, report=lambda _: None)
    assert [current_id(target) for target in replicas] == [published.release_id] * 2
    assert published.release_id != current_id(data_dir)
    # The previous release stays on disk for a quick switch back.
    assert all((target / "releases" / current_id(data_dir)).is_dir() for target in replicas)


def test_a_source_that_disagrees_with_its_manifest_is_refused(data_dir: Path, replicas: list[Path],
                                                              tmp_path: Path) -> None:
    before = current_id(data_dir)
    source = derived_release(data_dir, tmp_path / "next")
    dump = source / "current" / "dumps" / "kusei.nt"
    dump.write_bytes(dump.read_bytes().replace(b"<", b"[", 1))  # bit rot in the staging copy
    with pytest.raises(PublishError, match=r"dumps/kusei.nt: SHA-256 .* is not the .* release.json states"):
        publish(source, replicas, report=lambda _: None)
    for target in replicas:
        assert current_id(target) == before
        assert not list((target / "releases").glob(".build-*"))


def test_a_corrupted_copy_on_one_replica_switches_none(data_dir: Path, replicas: list[Path],
                                                       tmp_path: Path) -> None:
    before = current_id(data_dir)
    source = derived_release(data_dir, tmp_path / "next")

    def failing_disk(src: Path, dst: Path) -> str:
        # What a bad disk or a cut transfer leaves on the second replica: a store file changed.
        read = copy_file(src, dst)
        if dst.is_relative_to(replicas[1]) and dst.parent.name == "store" and dst.stat().st_size > 0:
            with dst.open("r+b") as damaged:
                first = damaged.read(1)
                damaged.seek(0)
                damaged.write(bytes([first[0] ^ 0xFF]))
        return read

    with pytest.raises(PublishError, match="the copy does not match the source"):
        publish(source, replicas, copy=failing_disk, report=lambda _: None)
    assert [current_id(target) for target in replicas] == [before, before]
    assert all(not list((target / "releases").glob(".build-*")) for target in replicas)


def test_the_command_reports_and_runs_the_hook(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    marker = tmp_path / "hook"
    hook = f"{sys.executable} -c \"import sys; open({str(marker)!r}, 'w').write(sys.argv[1])\""
    assert cli.main(["publish", "--from", str(data_dir), "--to", str(tmp_path / "r"), "--then", hook]) == 0
    assert marker.read_text() == current_id(data_dir)
    assert cli.main(["publish", "--from", str(tmp_path / "nothing"), "--to", str(tmp_path / "r")]) == 1
    assert "nothing was switched" in capsys.readouterr().err


def test_the_command_keeps_as_many_releases_as_the_setting_says(data_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r"
    assert cli.main(["publish", "--from", str(data_dir), "--to", str(target)]) == 0
    first = current_id(target)
    monkeypatch.setenv("KUSEI_KEEP_RELEASES", "1")
    source = derived_release(data_dir, tmp_path / "next")
    assert cli.main(["publish", "--from", str(source), "--to", str(target)]) == 0
    # Only the current release is kept: the one before it is removed, as a build with this setting does.
    assert [path.name for path in (target / "releases").iterdir()] == [current_id(target)]
    assert current_id(target) != first
