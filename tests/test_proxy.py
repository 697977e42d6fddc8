"""The README's reverse-proxy example, run for real: docs/nginx-carelog.conf in front of gunicorn
with CARELOG_PROXIES=1. Cookies keep Secure, HSTS is sent, redirects stay on https, and the
audit trail records the client's address, not the proxy's."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import urllib3
from sqlalchemy import select

from carelog.audit.models import AuditEntry
from carelog.extensions import db
from tests.conftest import PASSWORDS
from tests.postgres import free_port
from tests.server import csrf_token, running_server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "nginx-carelog.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT_ADDRESS = "127.0.0.7"  # a tablet, as nginx sees it


class FromAddress(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


def _configured(example: str, backend_port: int, https_port: int, http_port: int, work: Path):
    """The example with this machine's ports and a throwaway certificate; nothing else changed."""
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/ssl/certs/carelog.example.org.pem": str(work / "cert.pem"),
        "/etc/ssl/private/carelog.example.org.key": str(work / "key.pem"),
        "http://10.0.0.5:8000": f"http://127.0.0.1:{backend_port}",
    }
    for old, new in replacements.items():
        assert old in example, f"the example no longer has {old!r}; update this test with it"
        example = example.replace(old, new)
    return example


@contextmanager
def nginx_in_front(backend_url: str):
    assert Path(NGINX).exists(), "nginx is needed for this test: run `make system-packages`"
    work = Path(tempfile.mkdtemp(prefix="carelog-nginx-"))
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=carelog.example.org", "-keyout", str(work / "key.pem"),
             "-out", str(work / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        https_port, http_port = free_port(), free_port()
        server = _configured(
            EXAMPLE.read_text(), int(backend_url.rsplit(":", 1)[1]), https_port, http_port, work
        )
        (work / "nginx.conf").write_text(
            f"pid {work}/nginx.pid;\nerror_log {work}/error.log;\nevents {{}}\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {work}/body;\n"
            f"  proxy_temp_path {work}/proxy;\n{server}\n}}\n"
        )
        process = subprocess.Popen(
            [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            base = f"https://127.0.0.1:{https_port}"
            for _ in range(100):
                try:
                    requests.get(f"{base}/healthz", verify=False, timeout=2)  # noqa: S501
                    break
                except requests.ConnectionError:
                    assert process.poll() is None, process.stderr.read().decode()
                    time.sleep(0.1)
            yield base, f"http://127.0.0.1:{http_port}"
        finally:
            process.terminate()
            process.wait(timeout=10)
            process.stderr.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_readme_proxy_example_keeps_https_and_the_client_address(app, database_url):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    env = {"CARELOG_PROXIES": "1", "GUNICORN_CMD_ARGS": "--forwarded-allow-ips=10.9.9.9"}
    with (
        running_server(database_url, workers=2, env=env) as backend,
        nginx_in_front(backend) as (base, plain),
    ):
        moved = requests.get(f"{plain}/auth/sign-in", allow_redirects=False, timeout=10)
        assert moved.status_code == 301 and moved.headers["Location"].startswith("https://")

        browser = requests.Session()
        browser.trust_env = False  # a CA bundle named in the environment would undo verify=False
        browser.verify = False  # the throwaway certificate
        browser.mount("https://", FromAddress())
        page = browser.get(f"{base}/auth/sign-in", timeout=30)
        assert page.status_code == 200
        assert "max-age" in page.headers.get("Strict-Transport-Security", "")
        assert browser.cookies and all(c.secure for c in browser.cookies), "cookies lost Secure"
        answer = browser.post(
            f"{base}/auth/sign-in",
            data={"username": "nurse", "password": PASSWORDS["nurse"],
                  "csrf_token": csrf_token(page.text)},
            headers={"Referer": f"{base}/auth/sign-in"},  # as a browser sends it; CSRF checks it
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 303
        assert not answer.headers["Location"].startswith("http://"), answer.headers
        assert "Secure" in answer.headers["Set-Cookie"]
        assert browser.get(f"{base}/ward/", timeout=30).status_code == 200

    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "auth.sign_in")
            .order_by(AuditEntry.id.desc())
        )
    assert entry.ip == CLIENT_ADDRESS, f"the trail recorded {entry.ip}, not the tablet"
