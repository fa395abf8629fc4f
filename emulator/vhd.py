"""Synthetic VHD bytes: a few KB whose text header says where the disk came from.

A disk made from a custom image embeds that image's source content under `parent:`,
so a copy can be traced end to end: blob -> custom image -> VM disk -> next image.
The text is padded with zeros to a multiple of 512 bytes, as page blobs require.
"""

from __future__ import annotations

import hashlib

MAGIC = "EMULATED-VHD/1"
SECTOR = 512
MIN_SIZE = 4096


def render(fields: list[tuple[str, str]], parent: str | None = None) -> bytes:
    """Build VHD bytes from ordered `key: value` lines and an optional parent header."""
    lines = [MAGIC]
    lines.extend(f"{key}: {value}" for key, value in fields)
    if parent is not None:
        lines.append("parent:")
        lines.extend(f"  {line}" for line in parent.splitlines())
    text = "\n".join(lines) + "\n"
    raw = text.encode("utf-8")
    size = max(MIN_SIZE, -(-len(raw) // SECTOR) * SECTOR)
    return raw + b"\x00" * (size - len(raw))


def header(data: bytes) -> str:
    """The text header of synthetic VHD bytes, or a description of foreign bytes."""
    text = data.split(b"\x00", 1)[0]
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = ""
    if decoded.startswith(MAGIC):
        return decoded.rstrip("\n")
    digest = hashlib.sha256(data).hexdigest()
    return f"{MAGIC}\nforeign-content: sha256={digest} bytes={len(data)}"


def field(text: str, key: str) -> str | None:
    """The value of a top-level `key:` line of a header (not inside `parent:`)."""
    for line in text.splitlines():
        if line.startswith(f"{key}: "):
            return line[len(key) + 2 :]
    return None
