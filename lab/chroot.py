"""Build once, then reuse, a Debian sid chroot with Asterisk 22 (Debian 12 has no Asterisk)."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

SUITE = "sid"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm", "asterisk-moh-opsound-gsm")


class ChrootError(RuntimeError):
    """The chroot could not be built; the message carries debootstrap's last lines."""


def chroot_key() -> str:
    """Changes when the package list changes, so a stale cache is never reused."""
    return hashlib.sha256(" ".join((SUITE, *PACKAGES)).encode()).hexdigest()[:12]


def ensure_chroot(cache_dir: Path) -> Path:
    """Return the cached chroot, building it first if needed (about a minute, about 500 MB)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = cache_dir / f"asterisk-{SUITE}-{chroot_key()}"
    marker = root / ".callsla-complete"
    if marker.exists():
        return root
    with (cache_dir / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another checkout may be building the same chroot
        if marker.exists():
            return root
        if shutil.which("debootstrap") is None:
            raise ChrootError("debootstrap is not installed: run `make setup` (apt) first")
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        started = time.monotonic()
        log.info("building the Asterisk chroot in %s (about a minute)", root)
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
             SUITE, str(partial), MIRROR],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            raise ChrootError(f"debootstrap failed ({result.returncode}): {tail}")
        for deb in (partial / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        shutil.rmtree(root, ignore_errors=True)
        partial.rename(root)
        marker.write_text(f"built in {time.monotonic() - started:.1f} s\n")
        log.info("chroot ready in %.1f s", time.monotonic() - started)
    return root
