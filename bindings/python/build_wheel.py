#!/usr/bin/env python3
"""Builds the platform wheel of the chinaums binding, with libums inside.

    python3 bindings/python/build_wheel.py --lib target/release/libums.so \
        --sandbox target/release/ums-sandbox --out bindings/python/dist

(`make python-wheel` runs exactly this.) Standard library only: no
setuptools, no network. The wheel holds the package sources, ``libums.so``
next to them (``chinaums._native`` loads it from there, no environment
variable needed) and, with ``--sandbox``, the ``ums-sandbox`` simulator with
a console script of the same name.

The tag is ``py3-none-<platform>``: ctypes needs no particular Python ABI,
but the library is machine code. The platform is ``manylinux_2_X_<arch>``
only when the ELF files pass the checks auditwheel makes for that policy
(every needed library in the policy's list, every glibc symbol version at
most 2.X, every libgcc_s version at most GCC_7.0.0); otherwise the plain
``linux_<arch>`` tag, which pip installs on this kind of machine only.

The version is the workspace version of Cargo.toml; pyproject.toml,
``chinaums.__version__`` and the library's ``ums_version()`` must all say
the same, or the build stops (drift check).
"""

import argparse
import base64
import ctypes
import hashlib
import os
import platform
import re
import subprocess
import sys
import zipfile
from typing import Dict, List, NoReturn, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGE = os.path.join(HERE, "src", "chinaums")

# The libraries a manylinux wheel may link without carrying them (the
# "lib_whitelist" of auditwheel's manylinux policies), plus the dynamic
# loader itself, which glibc always provides at this name on x86_64.
MANYLINUX_LIBS = {
    "libgcc_s.so.1", "libstdc++.so.6", "libm.so.6", "libdl.so.2", "librt.so.1",
    "libc.so.6", "libnsl.so.1", "libutil.so.1", "libpthread.so.0", "libresolv.so.2",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
}
# glibc before 2.17 is not a manylinux_2_X policy anyone builds for.
MANYLINUX_FLOOR = (2, 17)
# The newest libgcc_s symbol version every manylinux_2_17+ policy allows.
GCC_CEILING = (7, 0, 0)

# Time stamp of every file in the wheel: the same inputs give the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def fail(message: str) -> NoReturn:
    print("build_wheel: " + message, file=sys.stderr)
    sys.exit(1)


def workspace_version() -> str:
    with open(os.path.join(REPO, "Cargo.toml"), encoding="utf-8") as f:
        match = re.search(r'^version = "([0-9][0-9.]*)"', f.read(), re.M)
    if not match:
        fail("no version = \"...\" line in Cargo.toml")
    return match.group(1)


def project_metadata() -> Dict[str, object]:
    """The [project] table of pyproject.toml."""
    try:
        import tomllib
    except ImportError:
        fail("Python 3.11 or newer is needed to build the wheel (tomllib)")
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f).get("project")
    if not isinstance(project, dict):
        fail("pyproject.toml has no [project] table")
    return project


def package_version() -> str:
    with open(os.path.join(PACKAGE, "__init__.py"), encoding="utf-8") as f:
        match = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
    if not match:
        fail("no __version__ in src/chinaums/__init__.py")
    return match.group(1)


def library_version(path: str) -> str:
    lib = ctypes.CDLL(os.path.abspath(path))
    lib.ums_version.restype = ctypes.c_char_p
    lib.ums_version.argtypes = []
    return (lib.ums_version() or b"").decode("ascii", "replace")


def check_versions(version: str, lib: str) -> None:
    """Every place that states the version agrees with Cargo.toml."""
    found = {
        "pyproject.toml": str(project_metadata().get("version")),
        "src/chinaums/__init__.py __version__": package_version(),
        lib + " ums_version()": library_version(lib),
    }
    wrong = ["%s says %s" % (where, v) for where, v in found.items() if v != version]
    if wrong:
        fail("version drift: Cargo.toml says %s, but %s" % (version, "; ".join(wrong)))


def readelf(path: str, option: str) -> str:
    try:
        return subprocess.run(["readelf", option, "--wide", path], check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        fail("readelf %s %s failed: %s" % (option, path, e))


def elf_needs(path: str) -> Tuple[List[str], Dict[str, List[Tuple[int, ...]]]]:
    """(DT_NEEDED libraries, required symbol versions by prefix: GLIBC, GCC,
    ...), from the "Version needs" section only (the file's own version
    definitions do not constrain anything). A version that is not
    PREFIX_number (GLIBC_PRIVATE) is kept under its whole name, no number."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf(path, "-d"))
    versions: Dict[str, List[Tuple[int, ...]]] = {}
    sections = re.split(r"^(?=Version \w+ section)", readelf(path, "-V"), flags=re.M)
    needs = "".join(part for part in sections if part.startswith("Version needs section"))
    for name in re.findall(r"Name: (\S+)", needs):
        numbered = re.fullmatch(r"([A-Z]+)_([0-9][0-9.]*)", name)
        if numbered:
            prefix, number = numbered.groups()
            versions.setdefault(prefix, []).append(tuple(int(p) for p in number.split(".")))
        else:
            versions.setdefault(name, [])
    return needed, versions


def platform_tag(files: List[str]) -> Tuple[str, str]:
    """(the wheel's platform tag, why)."""
    machine = platform.machine()
    if not sys.platform.startswith("linux"):
        fail("the wheel is built on Linux only")
    plain = "linux_" + machine
    glibc = MANYLINUX_FLOOR
    for path in files:
        needed, versions = elf_needs(path)
        outside = [lib for lib in needed if lib not in MANYLINUX_LIBS]
        if outside:
            return plain, "%s needs %s, outside the manylinux list" % (path, ", ".join(outside))
        too_new = [v for v in versions.get("GCC", []) if v > GCC_CEILING]
        if too_new:
            return plain, "%s needs libgcc_s GCC_%s" % (path, ".".join(map(str, max(too_new))))
        unknown = set(versions) - {"GLIBC", "GCC"}
        if unknown:
            return plain, "%s needs symbol versions %s" % (path, ", ".join(sorted(unknown)))
        glibc = max([glibc] + [v[:2] for v in versions.get("GLIBC", [])])
    return ("manylinux_%d_%d_%s" % (glibc[0], glibc[1], machine),
            "needed libraries all in the manylinux list, newest glibc symbol GLIBC_%d.%d" % glibc)


def metadata_text(project: Dict[str, object], version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        "Name: " + str(project["name"]),
        "Version: " + version,
        "Summary: " + str(project.get("description", "")),
    ]
    if project.get("requires-python"):
        lines.append("Requires-Python: " + str(project["requires-python"]))
    license_field = project.get("license")
    if isinstance(license_field, dict) and license_field.get("text"):
        lines.append("License: " + str(license_field["text"]))
    for classifier in project.get("classifiers", []) or []:  # type: ignore[union-attr]
        lines.append("Classifier: " + str(classifier))
    readme = str(project.get("readme") or "")
    body = ""
    if readme:
        lines.append("Description-Content-Type: text/markdown; charset=UTF-8")
        with open(os.path.join(HERE, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (name, digest, len(data))


class Wheel:
    """A wheel being written: files in order, RECORD last."""

    def __init__(self, path: str) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.record: List[str] = []

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        # pip gives installed files the execute bits the archive records.
        info.external_attr = (0o100755 if executable else 0o100644) << 16
        self.zip.writestr(info, data)
        self.record.append(record_line(name, data))

    def close(self, record_name: str) -> None:
        text = "\n".join(self.record + [record_name + ",,"]) + "\n"
        info = zipfile.ZipInfo(record_name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        self.zip.writestr(info, text)
        self.zip.close()


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def package_files() -> List[str]:
    """The package's own files (sources and py.typed), never a libums copy
    someone left in src/chinaums."""
    names = sorted(n for n in os.listdir(PACKAGE) if n.endswith(".py") or n == "py.typed")
    return [n for n in names if os.path.isfile(os.path.join(PACKAGE, n))]


def build(lib: str, sandbox: Optional[str], out: str) -> str:
    project = project_metadata()
    name = str(project["name"])
    version = workspace_version()
    check_versions(version, lib)
    elf_files = [lib] + ([sandbox] if sandbox else [])
    plat, why = platform_tag(elf_files)
    tag = "py3-none-" + plat
    os.makedirs(out, exist_ok=True)
    # One wheel per version in `out`: an older build with another tag goes.
    for old in os.listdir(out):
        if old.startswith("%s-%s-" % (name, version)) and old.endswith(".whl"):
            os.remove(os.path.join(out, old))
    path = os.path.join(out, "%s-%s-%s.whl" % (name, version, tag))
    dist_info = "%s-%s.dist-info" % (name, version)
    wheel = Wheel(path)
    for file_name in package_files():
        wheel.add("chinaums/" + file_name, read(os.path.join(PACKAGE, file_name)))
    # Whatever SONAME link `lib` is, the package holds the real file as libums.so.
    wheel.add("chinaums/libums.so", read(os.path.realpath(lib)))
    if sandbox:
        wheel.add("chinaums/bin/ums-sandbox", read(os.path.realpath(sandbox)), executable=True)
        wheel.add(dist_info + "/entry_points.txt",
                  b"[console_scripts]\nums-sandbox = chinaums._sandbox:main\n")
    wheel.add(dist_info + "/METADATA", metadata_text(project, version).encode("utf-8"))
    wheel.add(dist_info + "/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: chinaums build_wheel.py\n"
        "Root-Is-Purelib: false\nTag: %s\n" % tag).encode("ascii"))
    for license_file in ("LICENSE-MIT", "LICENSE-APACHE"):
        wheel.add(dist_info + "/" + license_file, read(os.path.join(REPO, license_file)))
    wheel.close(dist_info + "/RECORD")
    print("build_wheel: tag %s (%s)" % (plat, why), file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", required=True, help="libums.so to put in the wheel")
    parser.add_argument("--sandbox", help="the ums-sandbox simulator to put in the wheel")
    parser.add_argument("--out", required=True, help="directory for the .whl")
    args = parser.parse_args()
    for path in [args.lib] + ([args.sandbox] if args.sandbox else []):
        if not os.path.isfile(path):
            fail("%s not found: run `make lib` first" % path)
    print(build(args.lib, args.sandbox, args.out))


if __name__ == "__main__":
    main()
