"""Who is using the dashboard and what they may change: the signed-in user, roles and the write guard.

The mode comes from settings (:class:`forecasting.config.AuthSettings`, env ``CROSSOVER_AUTH``):

* ``local`` (default): one user on their own machine; they are the OS user and may change everything.
* ``oidc``: Streamlit's own login (``st.login``) against an OpenID Connect provider; ``forecasting
  dashboard`` writes Streamlit's ``[auth]`` secrets from ``CROSSOVER_OIDC_*`` variables.
* ``proxy``: a trusted reverse proxy authenticates and passes the user's e-mail in a header
  (``X-Forwarded-Email`` by default).  The header is read only in this mode.

In ``oidc`` and ``proxy`` mode a request without an identity sees the login page and nothing else
(:func:`gate`), and every write checks the user's role on the server (:func:`require`, or
:func:`write`, which also records the change in the audit trail).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import audit
from .config import ROLES, AuthSettings
from .errors import PermissionDeniedError

log = logging.getLogger(__name__)

#: The least role each change needs; anything not listed here is reading, which every role may do.
ACTIONS: dict[str, str] = {
    "scenario.save": "editor",
    "scenario.copy": "editor",
    "scenario.delete": "editor",
    "import": "editor",
    "import.undo": "editor",
    "refresh.start": "admin",
}


@dataclass(frozen=True)
class User:
    """A signed-in user: their name (e-mail in shared modes, the OS user locally) and role."""

    name: str
    role: str


def role_allows(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (an :data:`ACTIONS` key); ValueError for unknown roles or actions."""
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'")
    if action not in ACTIONS:
        raise ValueError(f"unknown action '{action}'; known: {', '.join(ACTIONS)}")
    return ROLES.index(role) >= ROLES.index(ACTIONS[action])


def identify(settings: AuthSettings, claims: Any, headers: Any) -> User | None:
    """The user a request belongs to, or None when it carries no identity (then only the login page shows).

    ``claims`` is ``st.user`` (used in ``oidc`` mode), ``headers`` is ``st.context.headers`` (``proxy`` mode).
    """
    if settings.mode == "local":
        return User(audit.os_user(), "admin")
    if settings.mode == "oidc":
        if not claims.get("is_logged_in", False):
            return None
        name = str(claims.get("email") or claims.get("sub") or "").strip()
    else:
        name = str(headers.get(settings.proxy_header) or "").strip()
    return User(name, settings.role_of(name)) if name else None


def current_user() -> User | None:
    """The user of this dashboard session under the configured mode (reads Streamlit's user and headers)."""
    import streamlit as st

    return identify(AuthSettings.from_env(), st.user, st.context.headers)


def user_name() -> str:
    """The current dashboard user's name (what a scenario's author field records)."""
    user = current_user()
    return user.name if user is not None else ""


def allowed(action: str) -> bool:
    """Whether the current dashboard user may do ``action``."""
    user = current_user()
    return user is not None and role_allows(user.role, action)


def require(action: str, owner: str | None = None) -> User:
    """The current user if they may do ``action`` (on an object ``owner`` made), else PermissionDeniedError.

    Editors change only their own scenarios; admins change anyone's.
    """
    user = current_user()
    if user is None:
        raise PermissionDeniedError("sign in first: this change needs a signed-in user")
    if not role_allows(user.role, action):
        need = ACTIONS[action]
        raise PermissionDeniedError(f"{user.name} is a {user.role}; {action} needs the {need} role or higher")
    if owner and owner != user.name and user.role != "admin":
        raise PermissionDeniedError(f"'{owner}' owns this; only its author or an admin may change it")
    return user


@contextmanager
def write(db: Path, action: str, detail: str = "", *, owner: str | None = None) -> Iterator[User]:
    """Guard one dashboard write: check the role before the block; its audit row commits with the change.

    A block that raises is not recorded; the exception propagates (see ``audit.attributed``).
    """
    user = require(action, owner)
    with audit.attributed(db, action, detail, actor=user.name):
        yield user


def gate() -> User:
    """At the top of every rerun: the signed-in user, or (shared modes) the login page and a stop."""
    import streamlit as st

    try:
        settings = AuthSettings.from_env()
    except ValueError as exc:  # refuse to serve rather than fall open
        log.error("login settings are invalid: %s", exc)
        st.error(f"The dashboard's login settings are invalid: {exc}")
        st.stop()
    user = identify(settings, st.user, st.context.headers)
    if user is None:
        # The only page this session may reach: any other URL falls back to it.
        st.navigation([st.Page(_login_page, title="Sign in", url_path="login")], position="hidden").run()
        st.stop()
    if settings.mode != "local":
        _identity_line(settings, user)
    return user


def _login_page() -> None:
    """What a request without an identity sees: a title and the way to sign in, no data."""
    import streamlit as st

    settings = AuthSettings.from_env()

    st.title("Crossover")
    if settings.mode == "oidc":
        st.write("Sign in to see the forecasts and scenarios.")
        st.button("Log in", type="primary", key="login", on_click=st.login)
    else:
        st.write(f"Sign in through your organisation's proxy: no `{settings.proxy_header}` header reached the app.")


def _identity_line(settings: AuthSettings, user: User) -> None:
    """The sidebar's 'signed in as' line, with a log-out button in OIDC mode."""
    import streamlit as st

    st.sidebar.caption(f"Signed in as **{user.name}** ({user.role})")
    if settings.mode == "oidc":
        st.sidebar.button("Log out", key="logout", on_click=st.logout)
