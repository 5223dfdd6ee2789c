"""A throwaway Dovecot (Debian's dovecot-imapd) on loopback, over TLS, for the IMAP job's tests.

Started from a config in a temporary folder (its own certificate, one user, Maildir); the
tests skip when Dovecot is absent, unless REQUIRE_IMAP=1 (CI, ``make test`` installs it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ...processes import die_with_parent

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "desk", "imap-test-password"


@dataclass
class Imap:
    host: str
    port: int
    user: str
    password: str
    ca_file: str


def available() -> bool:
    return Path(DOVECOT).exists()


def require() -> None:
    if not available():
        if os.environ.get("REQUIRE_IMAP"):
            pytest.fail("Dovecot is required (REQUIRE_IMAP=1) but /usr/sbin/dovecot is missing: run `make imap`")
        pytest.skip("Dovecot is not installed (make imap installs dovecot-imapd)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60, preexec_fn=die_with_parent)
    return cert, key


@contextlib.contextmanager
def running() -> Iterator[Imap]:
    """Dovecot's own users (auth, login) must read the folder: it is made under /tmp, not in pytest's 0700 tree."""
    require()
    folder = Path(tempfile.mkdtemp(prefix="dovecot-test-", dir="/tmp"))
    cert, key = _certificate(folder)
    port = _free_port()
    me = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:  # Dovecot's processes drop to its own users; the mail belongs to "dovecot"
        internal, login, mail_user = "dovecot", "dovenull", pwd.getpwnam("dovecot")
    else:
        internal, login, mail_user = me, me, pwd.getpwuid(os.getuid())
    mail = folder / "mail"
    mail.mkdir(exist_ok=True)
    os.chown(mail, mail_user.pw_uid, mail_user.pw_gid)
    folder.chmod(0o755)
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    config = folder / "dovecot.conf"
    config.write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
disable_plaintext_auth = yes
mail_location = maildir:{mail}/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={mail}/%u
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               preexec_fn=die_with_parent)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.1)
        else:
            raise RuntimeError("dovecot did not listen")
        yield Imap(host="127.0.0.1", port=port, user=USER, password=PASSWORD, ca_file=str(cert))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
