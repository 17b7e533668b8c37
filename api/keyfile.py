"""The session secret in a key file, never in the database.

The secret signs login sessions and CSRF tokens (``api.auth.Signer``). It lives in one file, by
default ``session.key`` in the data directory (``DISCRETION_HOME``), or where ``DISCRETION_SECRET_FILE``
says; for a PostgreSQL database too, the file is on the service's machine. The file holds 64
hexadecimal characters (32 random bytes) and a newline.

- **Created atomically, owner-only.** The first process to need it writes a new secret into a
  temporary file opened ``O_CREAT | O_EXCL`` with mode 0600 in the same directory (made 0700 if
  missing), and hard-links it to the key file's name: the link fails when the file exists, so of
  several workers starting at once the first creator wins and every other reads that one; nobody
  ever reads a half-written file.
- **Refused when exposed or broken.** A key file that group or others may read or write, that
  another user owns (root excepted), that is not a regular file, or that does not hold exactly 64
  hexadecimal characters stops the service with a Chinese message (:class:`KeyFileError`); it is
  never silently replaced, since that would log every user out and hide a tampered file.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from discretion.errors import DiscretionError

SECRET_BYTES = 32
_MAX_READ = 4096  # a key file is 65 bytes; anything much larger is not one


@dataclass
class KeyFileError(DiscretionError):
    """The key file is exposed, malformed or unreadable: the service does not start."""

    code: str = "secret_file_invalid"


def session_secret(path: Path) -> bytes:
    """The secret in the key file at ``path``, creating the file first when there is none."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    _create(path)
    return _read(path)


def _create(path: Path) -> None:
    folder = path.parent
    try:
        if not folder.is_dir():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            try:
                os.write(fd, (secrets.token_hex(SECRET_BYTES) + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # atomic; fails if the file exists
            except FileExistsError:
                return  # another process made it first: its secret is the one
        finally:
            tmp.unlink(missing_ok=True)
        _sync_folder(folder)
    except OSError as exc:
        raise KeyFileError(code="secret_file_unwritable",
                           message=f"无法创建会话密钥文件 {path}：{exc.strerror or exc}。"
                           "请检查数据目录的权限，或用 DISCRETION_SECRET_FILE 指定可写的位置", field="DISCRETION_SECRET_FILE") from None


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(path: Path) -> bytes:
    """Read and check the key file; ``FileNotFoundError`` when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _refused(path, "secret_file_unreadable", f"无法读取：{exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)  # the file opened, not whatever the name points at a moment later
        if not stat.S_ISREG(st.st_mode):
            raise _refused(path, "secret_file_invalid", "不是普通文件")
        if st.st_mode & 0o077:
            raise _refused(path, "secret_file_insecure",
                           f"权限为 {stat.S_IMODE(st.st_mode):04o}，同组或其他用户可以读写；请执行 chmod 600 {path}")
        if st.st_uid not in (os.geteuid(), 0):
            raise _refused(path, "secret_file_insecure", f"属于另一用户（uid {st.st_uid}），而不是运行服务的用户")
        data = os.read(fd, _MAX_READ)
    finally:
        os.close(fd)
    text = data.decode("ascii", errors="replace").strip()
    if len(text) != 2 * SECRET_BYTES or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise _refused(path, "secret_file_malformed",
                       f"格式错误：应只含 {2 * SECRET_BYTES} 个十六进制字符（{SECRET_BYTES} 字节随机数）。"
                       "若无法恢复原文件，删除它后重启即生成新密钥（所有登录会话随之失效）")
    return bytes.fromhex(text)


def _refused(path: Path, code: str, why: str) -> KeyFileError:
    return KeyFileError(code=code, message=f"会话密钥文件 {path} {why}", field="DISCRETION_SECRET_FILE")
