"""The console's settings: ``[console]`` in the configuration, the cookie key from the
environment.

::

    [console]
    enabled = true          # serve it from `bousai run` (on its own listener)
    host = "127.0.0.1"      # loopback by default: put the city's reverse proxy in front
    port = 8081
    session_hours = 12      # a sign-in lasts this long
    secure_cookies = false  # true behind TLS: the session cookie is sent over HTTPS only

``BOUSAI_CONSOLE_SECRET`` (at least 32 characters, e.g. ``openssl rand -hex 32``) signs
the session cookies; every process serving the console needs the same one. It is a
secret: never in the file, never in a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import Config
from bot.errors import ConfigError

SECRET_VAR = "BOUSAI_CONSOLE_SECRET"  # noqa: S105  (the variable's name, not a secret)
MIN_SECRET = 32


@dataclass(frozen=True, kw_only=True)
class ConsoleSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8081
    session_hours: float = 12.0
    secure_cookies: bool = False
    secret: str = ""

    @classmethod
    def load(cls, config: Config, env: Mapping[str, str] | None = None) -> ConsoleSettings:
        env = os.environ if env is None else env
        section = config.section("console")
        port = section.get("port", 8081)
        if env.get("BOUSAI_CONSOLE_PORT"):
            port = env["BOUSAI_CONSOLE_PORT"]
        try:
            port = int(port)
            if not 0 <= port < 65536:
                raise ValueError
        except (TypeError, ValueError):
            raise ConfigError(f"must be a port number, got {port!r}", key="console.port",
                              path=config.path) from None
        hours = section.get("session_hours", 12)
        if not isinstance(hours, int | float) or not 0 < hours <= 24 * 7:
            raise ConfigError("must be a number of hours between 0 and 168",
                              key="console.session_hours", path=config.path)
        return cls(enabled=bool(section.get("enabled", True)),
                   host=str(env.get("BOUSAI_CONSOLE_HOST") or section.get("host", "127.0.0.1")),
                   port=port, session_hours=float(hours),
                   secure_cookies=bool(section.get("secure_cookies", False)),
                   secret=env.get(SECRET_VAR, ""))

    def require_secret(self) -> str:
        """The cookie key, or a ConfigError that says how to set one."""
        if len(self.secret) < MIN_SECRET:
            said = "is not set" if not self.secret else f"is shorter than {MIN_SECRET} characters"
            raise ConfigError(f"{said}: the console signs its session cookies with it; set "
                              "it to a random value, e.g. `export BOUSAI_CONSOLE_SECRET=$("
                              "openssl rand -hex 32)`", key=SECRET_VAR)
        from bot.logs import remember_secrets

        remember_secrets([self.secret])
        return self.secret
