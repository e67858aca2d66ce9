"""``forecasting dashboard``: serve the installed dashboard with its packaged Streamlit settings.

Streamlit runs in a child process whose working directory is a private temporary folder holding
``.streamlit/config.toml`` (a copy of the one shipped in the package, so the settings apply however
the package was installed) and, in ``oidc`` mode, the ``secrets.toml`` with Streamlit's ``[auth]``
section written from ``CROSSOVER_OIDC_*`` variables.  The folder is removed when the server stops.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ..config import DB_ENV, REPO_ROOT, AuthSettings
from ..errors import ForecastingError, MissingExtraError
from .app import DbOption, app, resolve_db

log = logging.getLogger(__name__)

#: The script Streamlit runs.
ENTRY = Path(__file__).resolve().parent.parent / "dashboard_app.py"
#: Variables that configure OIDC login (``CROSSOVER_AUTH=oidc``): [auth] key -> env variable.
OIDC_ENV = {
    "client_id": "CROSSOVER_OIDC_CLIENT_ID",
    "client_secret": "CROSSOVER_OIDC_CLIENT_SECRET",
    "server_metadata_url": "CROSSOVER_OIDC_METADATA_URL",
}
REDIRECT_ENV = "CROSSOVER_OIDC_REDIRECT_URI"
COOKIE_ENV = "CROSSOVER_COOKIE_SECRET"


def _toml_string(value: str) -> str:
    """A TOML basic string (backslashes and quotes escaped; control characters refused)."""
    if any(ord(c) < 32 for c in value):
        raise ValueError("OIDC settings must not contain control characters")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def oidc_secrets(env: dict[str, str], host: str, port: int) -> str:
    """The ``secrets.toml`` text with Streamlit's ``[auth]`` section, from ``CROSSOVER_OIDC_*`` variables.

    The redirect URI defaults to ``http://HOST:PORT/oauth2callback``; the cookie secret to a random one
    (so sign-ins last until the server restarts; set ``CROSSOVER_COOKIE_SECRET`` to keep them longer).
    """
    missing = [name for name in OIDC_ENV.values() if not env.get(name)]
    if missing:
        raise ForecastingError(f"CROSSOVER_AUTH=oidc needs {', '.join(missing)} set")
    values = {key: env[name] for key, name in OIDC_ENV.items()}
    browse_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    values["redirect_uri"] = env.get(REDIRECT_ENV) or f"http://{browse_host}:{port}/oauth2callback"
    values["cookie_secret"] = env.get(COOKIE_ENV) or secrets.token_urlsafe(32)
    lines = ["[auth]", *(f"{key} = {_toml_string(value)}" for key, value in sorted(values.items()))]
    return "\n".join(lines) + "\n"


def packaged_config() -> Path:
    """The Streamlit settings shipped in the package (in a source checkout: ``.streamlit/config.toml``)."""
    from ..store import _resource_dir  # the one home of "installed data package, else the source folder"

    return _resource_dir("forecasting.streamlit_config", REPO_ROOT / ".streamlit") / "config.toml"


def streamlit_command(host: str, port: int) -> list[str]:
    """The command that runs the packaged entry script on ``host:port``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ENTRY),
        "--server.address",
        host,
        "--server.port",
        str(port),
    ]


def prepare_run_dir(run_dir: Path, settings: AuthSettings, env: dict[str, str], host: str, port: int) -> None:
    """Write ``.streamlit/config.toml`` (and, for OIDC, ``secrets.toml``) into the server's working folder."""
    streamlit_dir = run_dir / ".streamlit"
    streamlit_dir.mkdir(mode=0o700)
    shutil.copyfile(packaged_config(), streamlit_dir / "config.toml")
    if settings.mode == "oidc":
        if importlib.util.find_spec("authlib") is None:
            raise MissingExtraError("CROSSOVER_AUTH=oidc needs Authlib: pip install 'crossover-forecasting[oidc]'")
        path = streamlit_dir / "secrets.toml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(oidc_secrets(env, host, port))


def check_listen(host: str, port: int) -> None:
    """Refuse in one line an address the server could not listen on, before Streamlit fails with a traceback.

    ``ValueError`` (exit 2) for an empty host, a name that does not resolve or an address that is not
    this machine's; :class:`ForecastingError` (exit 1) when the port is taken. An empty ``--host``
    would make Streamlit listen on every interface, which only ``0.0.0.0`` may ask for.
    """
    if not host.strip():
        raise ValueError("--host is empty: give 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ValueError(f"--host {host}: not an address, nor a name this machine resolves ({exc.strerror})") from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no conflict
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                message = f"port {port} on {host} is in use: stop what listens there or give --port"
                raise ForecastingError(message) from None
            raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _serve(command: list[str], run_dir: Path, env: dict[str, str]) -> int:
    """Run Streamlit until it exits; SIGTERM is passed on, Ctrl-C reaches it directly."""
    proc = subprocess.Popen(command, cwd=run_dir, env=env)  # noqa: S603 - fixed argument list, no shell
    previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def dashboard(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on; 0.0.0.0 serves every interface.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port to listen on.")] = 8501,
    db: DbOption = None,
) -> None:
    """Serve the dashboard on http://HOST:PORT (localhost unless --host says otherwise); Ctrl-C stops it.

    Login: CROSSOVER_AUTH=local (default, one user), oidc or proxy; see docs/operations.md.
    """
    settings = AuthSettings.from_env()
    path = resolve_db(db).resolve()
    check_listen(host, port)
    if settings.mode == "local" and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without login (CROSSOVER_AUTH=local): anyone who reaches it may change data", host)
    env = {**os.environ, DB_ENV: str(path)}
    run_dir = Path(tempfile.mkdtemp(prefix="crossover-dashboard-"))
    try:
        prepare_run_dir(run_dir, settings, env, host, port)
        log.info("serving %s on http://%s:%d (auth: %s)", path, host, port, settings.mode)
        code = _serve(streamlit_command(host, port), run_dir, env)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    raise typer.Exit(code)
