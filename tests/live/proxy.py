"""The nginx of docker-compose.yml, run on loopback in front of local server processes.

The configuration is the one docker-compose.yml gives its `proxy` service, with only the
addresses changed, so the tests and bench/api.py exercise the routing production uses.
No Django imports: bench/api.py uses this module too.
"""

import shutil
import subprocess
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def is_available() -> bool:
    return Path(NGINX).exists()


def compose_proxy_configuration(*, listen: str, web: str, realtime: str) -> str:
    """The `proxy` service's server block, listening on `listen`, forwarding to the given
    `host:port` of the web (WSGI) and realtime (ASGI) processes."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    content = compose["configs"]["nginx"]["content"].replace("$$", "$")
    for old, new in (
        ("listen 8000;", f"listen {listen};"),
        ("server web:8000;", f"server {web};"),
        ("server realtime:8000;", f"server {realtime};"),
    ):
        if old not in content:
            raise ValueError(f"docker-compose.yml's nginx configuration no longer has {old!r}")
        content = content.replace(old, new)
    return content


class Proxy:
    """nginx in the foreground with a directory of its own for its files."""

    def __init__(self, directory: Path, *, listen: str, web: str, realtime: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        server = compose_proxy_configuration(listen=listen, web=web, realtime=realtime)
        (directory / "nginx.conf").write_text(
            f"worker_processes auto;\n"
            f"pid {directory}/nginx.pid;\n"
            f"error_log {directory}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            "    access_log off;\n"
            f"    client_body_temp_path {directory}/body;\n"
            f"    proxy_temp_path {directory}/proxy;\n"
            f"{server}\n"
            "}\n"
        )
        self.process = subprocess.Popen(
            [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(directory / "stderr.log").open("w"),
            start_new_session=True,
        )
        time.sleep(0.2)
        if self.process.poll() is not None:
            raise RuntimeError("nginx did not start: " + self.log())

    def log(self) -> str:
        parts = [
            (self.directory / name).read_text(errors="replace")
            for name in ("stderr.log", "error.log")
            if (self.directory / name).exists()
        ]
        return "\n".join(parts)[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
