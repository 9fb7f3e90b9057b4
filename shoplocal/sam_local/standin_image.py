"""A stand-in for AWS's Lambda base image (`public.ecr.aws/lambda/python:3.12-<arch>`), built
from this machine's own Python 3.12, for machines that reach no image registry (CI here).

SAM builds each function's image `FROM` that base: it adds its bundled runtime interface
emulator (`ADD`, then `RUN mv ... && chmod ...`) and the layers (`ADD`, `RUN cp ... && rm ...`),
and the emulator runs `/var/runtime/bootstrap`, which must start a runtime client for the
handler. The stand-in holds just that, laid out as AWS's image lays it out:

- `/var/lang`: the interpreter, libpython and the standard library (no tests, IDLE, Tk);
- `/var/runtime`: PyPI's `awslambdaric` (AWS's runtime interface client) and boto3, as the Lambda
  runtime provides it (`lambda_runtime.txt`), and `bootstrap`;
- the shared libraries all of those load, as `ldd` resolves them here, and the dynamic loader;
- `/bin/sh`, `cp`, `mv`, `rm`, `chmod` for SAM's `RUN` lines.

The files go to `docker import` as one tar stream, with the environment AWS's image sets. What
it proves and what it does not: docs/local-development.md.
"""

import io
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

PYTHON_VERSION = "3.12"
RUNTIME_REQUIREMENTS = Path(__file__).with_name("lambda_runtime.txt")
# Parts of the standard library no handler imports: 200 of its 280 MB.
STDLIB_LEFT_OUT = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "site-packages", "config-")
DYNLOAD_LEFT_OUT = ("_tkinter",)
SHELL_TOOLS = ("sh", "cp", "mv", "rm", "chmod")  # what SAM's Dockerfile runs in the image
# The system libraries a manylinux wheel may link without shipping them (PEP 599's list, less
# the graphics ones): Amazon Linux has them, so the layer's compiled wheels (pydantic-core) may
# need any of them, whatever this machine's Python loads itself.
MANYLINUX_LIBRARIES = (
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libutil.so.1",
    "libresolv.so.2",
    "libnsl.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libz.so.1",
    "libcrypt.so.1",
)
# The environment of AWS's base image (its Dockerfile's ENV lines).
IMAGE_ENVIRONMENT = {
    "LANG": "en_US.UTF-8",
    "TZ": ":/etc/localtime",
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
}
# Marks the stand-in, so that `make sam-local` never has SAM pull AWS's image over it.
STANDIN_MARK = ("STANDIN_IMAGE", "shoplocal.sam_local.standin_image")
# Python's search path in Lambda: the function's code, the layers, then the runtime's packages.
BOOTSTRAP = f"""#!/bin/sh
# Stand-in for the Lambda Python {PYTHON_VERSION} runtime's bootstrap (see shoplocal/sam_local/standin_image.py).
export AWS_EXECUTION_ENV=AWS_Lambda_python{PYTHON_VERSION}
export PYTHONPATH="/var/task:/opt/python/lib/python{PYTHON_VERSION}/site-packages:/opt/python:/var/runtime"
export PYTHONUTF8=1
cd "${{LAMBDA_TASK_ROOT:-/var/task}}"
exec /var/lang/bin/python{PYTHON_VERSION} -m awslambdaric "$_HANDLER"
"""
_LDD_LINE = re.compile(r"^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)$")


class StandInError(Exception):
    """The stand-in cannot be built here (no such Python, no ldd, a failed install or import)."""


def lambda_architecture(machine: str | None = None) -> str:
    """Lambda's name for this machine's architecture: x86_64 or arm64."""
    machine = (machine or platform.machine()).lower()
    if machine in ("x86_64", "amd64"):
        return "x86_64"
    if machine in ("aarch64", "arm64"):
        return "arm64"
    raise StandInError(f"Lambda runs x86_64 and arm64 only, not {machine}")


def image_tag(architecture: str) -> str:
    """The base image SAM looks for, for Runtime python3.12 and this architecture."""
    return f"public.ecr.aws/lambda/python:{PYTHON_VERSION}-{architecture}"


@dataclass(frozen=True)
class Entry:
    """One member of the image: a copy of `source` (following links), a file of `text`, a
    symbolic link to `link`, or else a folder."""

    path: PurePosixPath
    source: Path | None = None
    text: str | None = None
    link: str | None = None
    mode: int = 0o755


def _python_layout(python: Path) -> tuple[Path, Path | None]:
    """(standard library, libpython or None for a Python built without one) of `python`."""
    script = (
        "import sys, sysconfig; "
        "print(sysconfig.get_path('stdlib')); "
        "print(sysconfig.get_config_var('LIBDIR')); print(sysconfig.get_config_var('INSTSONAME') or '')"
    )
    try:
        output = subprocess.run([str(python), "-I", "-c", script], capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise StandInError(f"cannot run {python}: {error}") from error
    stdlib, libdir, soname = output.stdout.splitlines()
    libpython = Path(libdir) / soname
    return Path(stdlib), libpython if soname.endswith(".so") or ".so." in soname else None


def _walk(root: Path, left_out: Iterable[str] = ()) -> Iterator[Path]:
    """Every file under `root` (symbolic links included), without the top-level names starting
    with one of `left_out`."""
    skipped = tuple(left_out)
    for child in sorted(root.iterdir()):
        if skipped and child.name.startswith(skipped):
            continue
        if child.is_dir() and not child.is_symlink():
            yield from _walk(child)
        else:
            yield child


def shared_libraries(binaries: Iterable[Path]) -> set[Path]:
    """Every shared library the ELF files `binaries` load, and the dynamic loader, as this
    machine's `ldd` resolves them."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise StandInError("ldd is needed to find the shared libraries Python loads")
    found: set[Path] = set()
    paths = [str(path) for path in binaries]
    for start in range(0, len(paths), 200):
        result = subprocess.run([ldd, *paths[start : start + 200]], capture_output=True, text=True, timeout=120, check=False)
        for line in result.stdout.splitlines():
            match = _LDD_LINE.match(line)
            if match:
                found.add(Path(match.group(1)))
    return found


def system_libraries(names: Iterable[str]) -> set[Path]:
    """Where this machine's dynamic loader finds the libraries `names` (those it has)."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=60, check=False).stdout
    wanted, found = set(names), set()
    for line in listing.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.split(" ")[0] in wanted:
            found.add(Path(path))
    return found


def _is_elf(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def install_runtime(python: Path, target: Path) -> None:
    """awslambdaric and boto3 (lambda_runtime.txt) for this interpreter, compiled, in `target`."""
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    command = [*pip, "--only-binary=:all:", "--target", str(target), "-r", str(RUNTIME_REQUIREMENTS)]
    if subprocess.run(command, check=False, timeout=900).returncode != 0:
        raise StandInError(f"pip could not install {RUNTIME_REQUIREMENTS.name} for {python}")
    subprocess.run([str(python), "-m", "compileall", "-q", "-j", "0", str(target)], check=True, timeout=900)


def image_entries(python: Path, runtime: Path) -> list[Entry]:
    """What the stand-in holds: the interpreter and its library, the runtime packages in
    `runtime`, the bootstrap, the shell tools and every shared library they load."""
    stdlib, libpython = _python_layout(python)
    lang = PurePosixPath("/var/lang")
    version = f"python{PYTHON_VERSION}"
    entries = [Entry(lang / "bin" / version, python.resolve())]
    if libpython is not None:
        entries.append(Entry(lang / "lib" / libpython.name, libpython.resolve()))
    for name in ("python3", "python"):
        entries.append(Entry(lang / "bin" / name, link=version))
    for file in _walk(stdlib, STDLIB_LEFT_OUT):
        relative = file.relative_to(stdlib)
        if relative.parts[0] == "lib-dynload" and relative.name.startswith(DYNLOAD_LEFT_OUT):
            continue
        if file.name.endswith((".opt-1.pyc", ".opt-2.pyc")):  # for python -O only
            continue
        entries.append(Entry(lang / "lib" / version / relative.as_posix(), file))
    for file in _walk(runtime):
        entries.append(Entry(PurePosixPath("/var/runtime") / file.relative_to(runtime).as_posix(), file))
    entries.append(Entry(PurePosixPath("/var/runtime/bootstrap"), text=BOOTSTRAP))
    for tool in SHELL_TOOLS:
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found is None:
            raise StandInError(f"{tool} is needed in the image (SAM's Dockerfile runs it) but is not on this machine")
        entries.append(Entry(PurePosixPath("/bin") / tool, Path(found)))
    binaries = [entry.source for entry in entries if entry.source is not None and entry.source.suffix in ("", ".so")]
    elf = [path for path in binaries if path.is_file() and not path.is_symlink() and _is_elf(path)]
    elf += [entry.source.resolve() for entry in entries if entry.source is not None and entry.source.is_symlink()]
    loaded = shared_libraries(elf)
    # Where this machine keeps its libraries for this architecture (where Python's libc is).
    folders = {library.parent for library in loaded}
    extra = {library for library in system_libraries(MANYLINUX_LIBRARIES) if library.parent in folders}
    for library in sorted(loaded | extra | shared_libraries(extra)):
        if libpython is not None and library.resolve() == libpython.resolve():
            continue
        entries.append(Entry(PurePosixPath(library.as_posix()), library))
    for folder, mode in (("/var/task", 0o755), ("/opt", 0o755), ("/tmp", 0o1777)):  # noqa: S108 - the image's own /tmp
        entries.append(Entry(PurePosixPath(folder), mode=mode))
    return entries


def _tar_info(entry: Entry, archive: tarfile.TarFile) -> tuple[tarfile.TarInfo, bytes | None]:
    name = entry.path.as_posix().lstrip("/")
    if entry.link is not None:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry.link, 0o777
        return info, None
    if entry.text is not None:
        data = entry.text.encode()
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), entry.mode
        return info, data
    if entry.source is None:
        info = tarfile.TarInfo(name)
        info.type, info.mode = tarfile.DIRTYPE, entry.mode
        return info, None
    source = entry.source.resolve()  # the file a link points to, as a file of its own
    info = archive.gettarinfo(str(source), arcname=name)
    return info, None


def write_tar(entries: Iterable[Entry], stream: IO[bytes]) -> None:
    """The entries as a tar stream, owned by root, parent folders first."""
    with tarfile.open(fileobj=stream, mode="w|") as archive:
        written: set[str] = set()
        for entry in entries:
            parents = list(entry.path.parents)[::-1][1:]  # without "/"
            for parent in parents:
                key = parent.as_posix().lstrip("/")
                if key not in written:
                    folder = tarfile.TarInfo(key)
                    folder.type, folder.mode = tarfile.DIRTYPE, 0o755
                    folder.uname = folder.gname = "root"
                    archive.addfile(folder)
                    written.add(key)
            info, data = _tar_info(entry, archive)
            if info.name in written:
                continue
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            written.add(info.name)
            if data is not None:
                archive.addfile(info, io.BytesIO(data))
            elif info.isreg() and entry.source is not None:
                with entry.source.resolve().open("rb") as file:
                    archive.addfile(info, file)
            else:
                archive.addfile(info)


def build(python: Path, tag: str, environment: Mapping[str, str] | None = None) -> None:
    """Build the stand-in from `python` and import it as `tag` into the Docker daemon that the
    docker CLI reaches with `environment` (e.g. DOCKER_HOST) on top of this process's."""
    docker = shutil.which("docker")
    if docker is None:
        raise StandInError("the docker command is not installed")
    with tempfile.TemporaryDirectory(prefix="lambda-standin-") as work:
        runtime = Path(work) / "runtime"
        install_runtime(python, runtime)
        entries = image_entries(python, runtime)
        variables = {**IMAGE_ENVIRONMENT, STANDIN_MARK[0]: STANDIN_MARK[1]}
        changes = [f"ENV {name}={value}" for name, value in variables.items()] + ["WORKDIR /var/task"]
        command = [docker, "import", *(arg for change in changes for arg in ("--change", change)), "-", tag]
        env = {**os.environ, **(environment or {})}
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env) as importer:
            assert importer.stdin is not None
            try:
                write_tar(entries, importer.stdin)
            finally:
                importer.stdin.close()
        if importer.returncode != 0:
            raise StandInError(f"docker import of {tag} failed (exit {importer.returncode})")
