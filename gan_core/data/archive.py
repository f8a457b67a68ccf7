"""The picture files of a dataset folder or .zip, gathered with every limit checked before any is read.

A folder dataset is a pile of files a person brings: it may be huge, damaged or hostile. This module
turns a folder or a .zip into ``(name, bytes)`` pairs of candidate pictures (by extension), and refuses
the whole source, in one line, when it breaks a limit:

* more than ``MAX_IMAGES`` pictures; a .zip over ``MAX_ZIP_BYTES``, or unpacking to more than
  ``MAX_UNPACKED_BYTES``, or more than ``MAX_RATIO`` times its own size (a zip bomb);
* an archive path that would land outside its folder (zip-slip: absolute, ``..``, a drive letter);
* a symbolic link (a .zip entry that is one; in a folder, one that leads out of the folder);
* more than ``MAX_EMPTY`` empty files (a pile of nothing); a file that is not a .zip at all.

A .zip is read in memory, entry by entry, never unpacked to disk: nothing it names is ever written. A
single picture that is too large is not fatal: it is skipped and listed with the unreadable ones
(``data.folder``), its bytes never read.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from ..atomic import atomic_write_bytes
from ..images import MAX_BYTES
from .common import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_IMAGES = 100_000
MAX_ZIP_BYTES = 200 * 2**20
MAX_UNPACKED_BYTES = 200 * 2**20
MAX_RATIO = 100  # unpacked size / archive size; pictures hardly compress, a bomb compresses ~1000x
MAX_EMPTY = 1_000
KEEP_BYTES = MAX_UNPACKED_BYTES  # a source's bytes kept between its digest and its decoding, at most
UPLOADS = "uploads"  # where the app keeps checked uploads, under data_dir
IGNORED_PARTS = ("__MACOSX",)  # macOS's resource forks beside every zipped file


class Source:
    """A folder's or .zip's candidate pictures, limits already checked: ``names`` (relative POSIX names, in
    order) and ``items()``, which reads them one at a time (a too-large one as None, never read), so a
    large folder is never held in memory whole. ``digest()`` is the sha256 of every name and content."""

    def __init__(self, names: list[str], read: Callable[[], Iterator[tuple[str, bytes | None]]]) -> None:
        self.names, self._read = names, read
        self._kept: list[tuple[str, bytes | None]] | None = None  # what digest() read, when it fit KEEP_BYTES

    def items(self) -> Iterator[tuple[str, bytes | None]]:
        return iter(self._kept) if self._kept is not None else self._read()

    def digest(self) -> str:
        """Each name, then its size and bytes (a too-large file: its name only): two sources hash alike
        exactly when they hold the same pictures under the same names. The bytes read are kept (up to
        ``KEEP_BYTES`` in all), so the decoding after a cache miss does not read every file a second time."""
        digest = hashlib.sha256()
        kept: list[tuple[str, bytes | None]] | None = []
        total = 0
        for name, data in self._read():
            digest.update(name.encode() + b"\0")
            if data is not None:
                digest.update(len(data).to_bytes(8, "big") + data)
            total += len(data or b"")
            if kept is not None and total > KEEP_BYTES:
                kept = None  # a folder larger than that is read again, file by file, to be decoded
            if kept is not None:
                kept.append((name, data))
        self._kept = kept
        return digest.hexdigest()


def is_picture(name: str) -> bool:
    """A candidate picture by its name: an image suffix, not hidden, not in macOS's __MACOSX folder."""
    parts = PurePosixPath(name).parts
    return (name.lower().endswith(IMAGE_SUFFIXES) and not any(p.startswith(".") for p in parts)
            and not any(p in IGNORED_PARTS for p in parts))


def open_source(source: str | os.PathLike[str]) -> Source:
    """The candidate pictures of the folder or .zip ``source``; DataError (one line) on any refusal."""
    path = Path(source).expanduser()
    if path.is_dir():
        return _folder(path)
    if not path.is_file():
        raise DataError(f"{path}: no such folder or .zip file")
    return _zip(path)


def check_zip(archive: str | os.PathLike[str] | bytes) -> int:
    """Check the .zip at a path (or its bytes) against every limit from its directory alone (nothing
    decoded, nothing written); the number of candidate pictures."""
    opened, entries = _checked_zip(archive)
    opened.close()
    return len(entries)


def keep_upload(data: bytes, filename: str, data_dir: str | os.PathLike[str]) -> Path:
    """Check an uploaded .zip (``check_zip``) and only then keep it, atomically, as
    ``data_dir/uploads/<first 16 hex of its sha256>/<its name>.zip``; the path, for ``folder:PATH``."""
    check_zip(data)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(filename).stem).strip("-")[:64] or "upload"
    path = Path(data_dir) / UPLOADS / hashlib.sha256(data).hexdigest()[:16] / f"{stem}.zip"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    return path


def _checked_zip(archive: str | os.PathLike[str] | bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The open .zip (a path, or an upload's bytes) and its candidate pictures, once every archive-wide
    limit passed: its size, then what its directory promises (``_checked_entries``)."""
    size = len(archive) if isinstance(archive, bytes) else Path(archive).stat().st_size
    where = "the upload" if isinstance(archive, bytes) else Path(archive).name
    if size > MAX_ZIP_BYTES:
        raise DataError(f"{where}: the archive is {size / 2**20:.0f} MB; the limit is {MAX_ZIP_BYTES // 2**20} MB")
    opened = _open_zip(io.BytesIO(archive) if isinstance(archive, bytes) else Path(archive))
    try:
        return opened, _checked_entries(opened, size, where)
    except DataError:
        opened.close()
        raise


def _open_zip(source: Path | io.BytesIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        where = source.name if isinstance(source, Path) else "the upload"
        raise DataError(f"{where}: not a .zip archive that can be read ({exc})") from exc


def _checked_entries(archive: zipfile.ZipFile, archive_bytes: int, where: str) -> list[zipfile.ZipInfo]:
    """The archive's candidate pictures, after every archive-wide limit passed."""
    entries = [info for info in archive.infolist() if not info.is_dir()]
    for info in entries:
        _check_name(info.filename, where)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DataError(f"{where}: '{info.filename}' is a symbolic link; links are refused in an archive")
    unpacked = sum(info.file_size for info in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise DataError(f"{where}: unpacks to {unpacked / 2**20:,.0f} MB; the limit is "
                        f"{MAX_UNPACKED_BYTES // 2**20} MB (a zip bomb?)")
    if unpacked > MAX_RATIO * max(archive_bytes, 1) and unpacked > 2**20:
        raise DataError(f"{where}: unpacks to {unpacked / max(archive_bytes, 1):,.0f} times its size; the limit "
                        f"is {MAX_RATIO} (a zip bomb?)")
    pictures = [info for info in entries if is_picture(info.filename)]
    _check_counts(len(pictures), sum(1 for info in entries if info.file_size == 0), where)
    return pictures


def _check_name(name: str, where: str) -> None:
    """Refuse a name that would land outside the folder it is unpacked into (zip-slip)."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise DataError(f"{where}: the entry '{name}' points outside the archive's folder (zip-slip); refused")


def _check_counts(pictures: int, empty: int, where: str) -> None:
    if pictures > MAX_IMAGES:
        raise DataError(f"{where}: {pictures:,} pictures; the limit is {MAX_IMAGES:,}")
    if empty > MAX_EMPTY:
        raise DataError(f"{where}: {empty:,} empty files; at most {MAX_EMPTY:,} are allowed (not a dataset)")


def _zip(path: Path) -> Source:
    """The .zip's candidate pictures, read in memory in one opening (its directory's limits keep them under
    ``MAX_UNPACKED_BYTES``); sizes enforced as each entry is read (a header cannot promise a small file and
    deliver a large one: zipfile stops at the promised size)."""
    opened, entries = _checked_zip(path)
    with opened:
        items = [(info.filename, _read_entry(opened, info)) for info in sorted(entries, key=lambda i: i.filename)]
    return Source([name for name, _ in items], lambda: iter(items))


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """An entry's bytes; None when it is over the per-file limit (never read); b"" when damaged inside the
    archive (an empty, unreadable file, listed as such)."""
    if info.file_size > MAX_BYTES:
        return None
    try:
        with archive.open(info) as member:
            return member.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return b""


def _folder(root: Path) -> Source:
    """The folder's candidate pictures; a symbolic link that leads out of it refuses the folder, one that
    stays inside is read (files) or not descended (folders, so nothing is read twice)."""
    base = root.resolve()
    found: list[tuple[str, Path]] = []
    empty = 0
    for folder, subfolders, files in os.walk(root, followlinks=False):
        for name in [*subfolders, *files]:
            path = Path(folder, name)
            if path.is_symlink() and not path.resolve().is_relative_to(base):
                raise DataError(f"{root}: '{path.relative_to(root)}' is a symbolic link out of the folder; refused")
        for name in files:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if is_picture(relative):
                found.append((relative, path))
            empty += path.is_file() and path.stat().st_size == 0
    _check_counts(len(found), empty, str(root))
    found.sort()

    def read() -> Iterator[tuple[str, bytes | None]]:
        for relative, path in found:
            try:
                yield relative, None if path.stat().st_size > MAX_BYTES else path.read_bytes()
            except OSError:
                yield relative, b""  # vanished or unreadable: listed as unreadable

    return Source([relative for relative, _ in found], read)
