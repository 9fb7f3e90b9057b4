"""The stand-in for AWS's Python base image: what it holds, laid out as SAM and the runtime
interface emulator expect, and the tar that `docker import` reads. (Building and running it is
`make sam-local-test`'s part: it needs Docker.)"""

import io
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import pytest

from shoplocal.sam_local.standin_image import (
    BOOTSTRAP,
    PYTHON_VERSION,
    Entry,
    image_entries,
    image_tag,
    lambda_architecture,
    write_tar,
)

INSTALLED_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize(
    ("machine", "architecture"), [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64")]
)
def test_the_machine_is_named_as_lambda_names_it(machine: str, architecture: str) -> None:
    assert lambda_architecture(machine) == architecture
    assert image_tag(architecture) == f"public.ecr.aws/lambda/python:3.12-{architecture}"


def test_other_machines_are_refused() -> None:
    from shoplocal.sam_local.standin_image import StandInError

    with pytest.raises(StandInError, match="x86_64 and arm64"):
        lambda_architecture("riscv64")


@pytest.fixture(scope="module")
def entries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Entry]:
    """The image's members from this machine's Python, with a stand-in runtime package."""
    runtime = tmp_path_factory.mktemp("runtime")
    (runtime / "awslambdaric").mkdir()
    (runtime / "awslambdaric" / "__init__.py").write_text("")
    return {entry.path.as_posix(): entry for entry in image_entries(INSTALLED_PYTHON, runtime)}


def test_the_layout_is_the_lambda_images(entries: dict[str, Entry]) -> None:
    version = f"python{PYTHON_VERSION}"
    assert entries[f"/var/lang/bin/{version}"].source == INSTALLED_PYTHON.resolve()
    assert entries["/var/lang/bin/python3"].link == version
    assert f"/var/lang/lib/{version}/os.py" in entries
    assert "/var/runtime/awslambdaric/__init__.py" in entries
    assert entries["/var/runtime/bootstrap"].text == BOOTSTRAP
    assert entries["/tmp"].mode == 0o1777  # noqa: S108 - the image's
    for tool in ("sh", "cp", "mv", "rm", "chmod"):  # SAM's Dockerfile runs them
        assert f"/bin/{tool}" in entries


def test_only_what_a_handler_can_use_of_the_standard_library(entries: dict[str, Entry]) -> None:
    stdlib = f"/var/lang/lib/python{PYTHON_VERSION}/"
    names = [name.removeprefix(stdlib) for name in entries if name.startswith(stdlib)]
    assert not [name for name in names if name.split("/")[0] in ("test", "idlelib", "tkinter", "site-packages", "ensurepip")]
    assert not [name for name in names if name.endswith((".opt-1.pyc", ".opt-2.pyc"))]
    assert any(name.startswith("lib-dynload/_ssl") for name in names)
    assert "json/__init__.py" in names


def test_every_shared_library_python_and_manylinux_wheels_load_is_there(entries: dict[str, Entry]) -> None:
    """ldd's answer for the interpreter and its C modules, and the system libraries a manylinux
    wheel (the layer's pydantic-core) may link: librt was missing once, and every import failed."""
    libraries = {PurePosixPath(name).name for name in entries if ".so" in name}
    assert {"libc.so.6", "libm.so.6", "librt.so.1", "libpthread.so.0", "libdl.so.2", "libgcc_s.so.1", "libz.so.1"} <= libraries
    ldd = ["ldd", str(INSTALLED_PYTHON)]
    loader = subprocess.run(ldd, capture_output=True, text=True, check=True).stdout
    for line in loader.splitlines():
        if "=>" in line and "/" in line:
            library = line.split("=>")[1].split("(")[0].strip()
            assert Path(library).name in libraries, library


def test_the_tar_is_owned_by_root_with_folders_before_their_files(tmp_path: Path) -> None:
    source = tmp_path / "tool"
    source.write_bytes(b"#!/bin/sh\n")
    source.chmod(0o755)
    members = [
        Entry(PurePosixPath("/var/lang/bin/tool"), source),
        Entry(PurePosixPath("/var/lang/bin/alias"), link="tool"),
        Entry(PurePosixPath("/var/runtime/bootstrap"), text=BOOTSTRAP),
        Entry(PurePosixPath("/tmp"), mode=0o1777),  # noqa: S108 - the image's
    ]
    stream = io.BytesIO()
    write_tar(members, stream)
    stream.seek(0)
    with tarfile.open(fileobj=stream) as archive:
        names = archive.getnames()
        assert names == [
            "var",
            "var/lang",
            "var/lang/bin",
            "var/lang/bin/tool",
            "var/lang/bin/alias",
            "var/runtime",
            "var/runtime/bootstrap",
            "tmp",
        ]
        assert {(member.uid, member.gid, member.uname) for member in archive.getmembers()} == {(0, 0, "root")}
        tool = archive.getmember("var/lang/bin/tool")
        assert tool.mode & 0o777 == 0o755
        assert archive.extractfile(tool).read() == b"#!/bin/sh\n"  # type: ignore[union-attr]
        assert archive.getmember("var/lang/bin/alias").linkname == "tool"
        assert archive.extractfile("var/runtime/bootstrap").read() == BOOTSTRAP.encode()  # type: ignore[union-attr]
        assert archive.getmember("tmp").mode == 0o1777
