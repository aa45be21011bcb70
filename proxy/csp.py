"""Add Breather's nonce to a page's Content-Security-Policy so the injected overlay may run, and nothing more.

Only ``script-src``/``style-src`` (or ``default-src`` when they are absent) are touched. A directive that allows
``'unsafe-inline'`` without nonces or hashes is left alone: adding a nonce there would switch ``'unsafe-inline'``
off and break the site's own inline scripts.
"""

from __future__ import annotations

FETCH_DIRECTIVES = ("script-src", "style-src")


def _parse(policy: str) -> list[list[str]]:
    return [part.split() for part in policy.split(";") if part.strip()]


def _needs_nonce(sources: list[str]) -> bool:
    lowered = [source.lower() for source in sources]
    if "'unsafe-inline'" not in lowered:
        return True
    return any(source.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for source in lowered)


def add_nonce(policy: str, nonce: str) -> str:
    """Return ``policy`` with ``'nonce-…'`` added wherever an inline script or style would otherwise be blocked."""
    directives = _parse(policy)
    names = [directive[0].lower() for directive in directives if directive]
    token = f"'nonce-{nonce}'"
    for wanted in FETCH_DIRECTIVES:
        target = wanted if wanted in names else "default-src" if "default-src" in names else None
        if target is None:
            continue
        directive = directives[names.index(target)]
        sources = directive[1:]
        if token in sources or not _needs_nonce(sources) or "'none'" in (s.lower() for s in sources):
            if "'none'" in (s.lower() for s in sources):
                directive[1:] = [token]
            continue
        if target == "default-src" and wanted not in names:
            directives.append([wanted, *sources, token])
            names.append(wanted)
        else:
            directive.append(token)
    _allow_same_origin_fetch(directives, names)
    return "; ".join(" ".join(directive) for directive in directives)


def _allow_same_origin_fetch(directives: list[list[str]], names: list[str]) -> None:
    """The overlay talks to ``/__breather__/…`` on the page's own origin: make sure ``connect-src`` allows it."""
    target = "connect-src" if "connect-src" in names else "default-src" if "default-src" in names else None
    if target is None:
        return
    sources = directives[names.index(target)][1:]
    if any(source.lower() in {"'self'", "*"} for source in sources):
        return
    kept = [source for source in sources if source.lower() != "'none'"]
    if target == "connect-src":
        directives[names.index(target)][1:] = [*kept, "'self'"]
    else:
        directives.append(["connect-src", *kept, "'self'"])
