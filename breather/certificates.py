"""Breather's CA in its mitmproxy confdir, checked before the proxy starts.

mitmproxy makes a CA when its key file is missing and stops, naming neither the file nor a way out, when the key
file does not read. A robustness test found: a CA folder emptied between runs gave a new CA in silence (every
browser that trusted the old one then failed on every social site, with nothing saying why); a key file cut short
stopped the service with "Unable to load PEM file ... MalformedFraming"; and a public copy replaced by garbage was
handed out by ``breather ca`` and the Setup page as it was.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from breather.errors import CommandError
from breather.paths import Paths

log = logging.getLogger(__name__)

CA_KEY_FILE = "mitmproxy-ca.pem"  # the key and the certificate: what mitmproxy signs with
PUBLIC_COPIES = ("mitmproxy-ca-cert.pem", "mitmproxy-ca-cert.cer")  # the certificate alone, to trust


def check_ca(paths: Paths) -> None:
    """Before the proxy starts: say when a new CA is about to be made for a home already in use, refuse a key file
    that does not read (its path and what to do), and make the public copies again when they are not the CA's."""
    confdir = paths.mitmproxy_confdir
    key_file = confdir / CA_KEY_FILE
    seen = _fingerprint_file(paths)
    if not key_file.exists():
        if seen.exists():
            log.warning(
                "the CA in %s is missing: a new one is made now. Browsers and devices that trusted the old one must "
                "trust this one, or every site in the rules fails there (`breather ca` says how)",
                confdir,
            )
            seen.unlink(missing_ok=True)  # said once: the new CA is noted at the next start
        return
    certificate = _read_ca(key_file, confdir)
    for name in PUBLIC_COPIES:
        _mend_public_copy(confdir / name, certificate)
    _note_fingerprint(seen, certificate, confdir)


def _fingerprint_file(paths: Paths) -> Path:
    """Beside the CA's folder, so a folder emptied or moved aside leaves it: the CA Breather last used."""
    return paths.mitmproxy_confdir.parent / "ca-fingerprint"


def _note_fingerprint(seen: Path, certificate: bytes, confdir: Path) -> None:
    fingerprint = hashlib.sha256(certificate).hexdigest()
    try:
        before = seen.read_text(encoding="ascii").strip()
    except OSError:
        before = ""
    if before == fingerprint:
        return
    if before:
        log.warning(
            "the CA in %s is not the one Breather used before: browsers and devices that trusted the old one must "
            "trust this one (`breather ca` says how)",
            confdir,
        )
    try:
        seen.write_text(fingerprint + "\n", encoding="ascii")
    except OSError as exc:  # a read-only home: the start goes on, the note waits
        log.warning("could not note the CA's fingerprint in %s (%s)", seen, exc)


def _read_ca(key_file: Path, confdir: Path) -> bytes:
    """The CA's certificate (PEM) from its key file; ``CommandError`` naming the file when it does not read."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        data = key_file.read_bytes()
        serialization.load_pem_private_key(data, password=None)
        certificate = x509.load_pem_x509_certificate(data)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(
            f"the CA's key file {key_file} cannot be read ({exc}). Put back a copy of it if you have one; otherwise "
            f"move {confdir} aside and start again: a new CA is made, which browsers and devices must then trust "
            "(`breather ca` says how)"
        ) from exc
    return certificate.public_bytes(serialization.Encoding.PEM)


def _mend_public_copy(path: Path, certificate: bytes) -> None:
    try:
        if path.read_bytes() == certificate:
            return
    except OSError:
        pass
    log.warning("%s was not the CA's certificate: written again from %s", path, CA_KEY_FILE)
    path.write_bytes(certificate)
