"""`breather ca`."""

from __future__ import annotations

import argparse

from breather.paths import Paths

HELP = "show where Breather's CA certificate is and how to trust it"

INSTRUCTIONS = """\
Breather's certificate authority (CA) lets it read the social sites named in your rules, and only those.
It was made on this machine and never leaves it. Trust it once in each browser or system you use:

  Linux (Debian/Ubuntu, system-wide):
    sudo cp "{cert}" /usr/local/share/ca-certificates/breather.crt && sudo update-ca-certificates
  Linux (Chromium/Chrome, your user only):
    certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n Breather -i "{cert}"
  macOS:
    sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain "{cert}"
  Windows (PowerShell as administrator):
    Import-Certificate -FilePath "{cert}" -CertStoreLocation Cert:\\LocalMachine\\Root
  Firefox (it keeps its own list):
    Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import…,
    choose the file above and tick "Trust this CA to identify websites".

To stop trusting it, remove "Breather"/"mitmproxy" from the same place. Deleting {confdir} makes a new CA next
time Breather starts (then trust the new one)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", action="store_true", help="print only the certificate's path")


def ensure_ca(paths: Paths) -> bool:
    """Create the CA in Breather's mitmproxy confdir if it is missing. Returns True when it was created now."""
    if paths.ca_certificate.exists():
        return False
    from mitmproxy.certs import CertStore

    paths.mitmproxy_confdir.mkdir(parents=True, exist_ok=True)
    CertStore.from_store(paths.mitmproxy_confdir, "mitmproxy", 2048)
    return True


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.certificates import check_ca

    check_ca(paths)  # a key file that does not read is said; a public copy that is not the CA's is made again
    created = ensure_ca(paths)
    if args.path:
        print(paths.ca_certificate)
        return 0
    if created:
        print("Created a new CA for this Breather home.\n")
    print(f"CA certificate: {paths.ca_certificate}\n")
    print(INSTRUCTIONS.format(cert=paths.ca_certificate, confdir=paths.mitmproxy_confdir))
    return 0
