"""Errors raised by the service.

    BousaiError
    ├── ConfigError(ValueError)            a setting is missing or wrong; names key and file
    ├── ValidationError(ValueError)        a domain object was given impossible values
    ├── UnknownWardError(LookupError)      a ward code that the configuration does not know
    ├── UnknownLanguageError(LookupError)  a language tag that the configuration does not list
    ├── AlertNotFound(LookupError)         no alert with that id
    ├── SchemaOutOfDate(RuntimeError)      the database needs ``bousai db upgrade``
    ├── OperatorError(PermissionError)     an operator action that is not allowed
    └── IngestError(ValueError)            a document that cannot be read; carries the reason
        └── HostileDocument                entity declarations, external references, too large

Posters (:mod:`bot.posters`) add FontMissingError(LookupError) (names the Debian
package to install), UncoveredTextError(LookupError) and PosterError(RuntimeError).

Channel errors live in :mod:`channels.base`.
"""

from __future__ import annotations


class BousaiError(Exception):
    """Base of every error this service raises on purpose."""


class ConfigError(BousaiError, ValueError):
    def __init__(self, message: str, *, key: str | None = None, path: str | None = None) -> None:
        where = ""
        if key and path:
            where = f"{key} in {path}: "
        elif key:
            where = f"{key}: "
        elif path:
            where = f"{path}: "
        super().__init__(f"{where}{message}")
        self.key = key
        self.path = path


class ValidationError(BousaiError, ValueError):
    pass


class UnknownWardError(BousaiError, LookupError):
    def __init__(self, code: str, path: str | None = None) -> None:
        where = f" (known wards are listed in {path})" if path else ""
        super().__init__(f"unknown ward code {code!r}{where}")
        self.code = code
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownLanguageError(BousaiError, LookupError):
    def __init__(self, tag: str, path: str | None = None) -> None:
        where = f" (languages are listed in {path})" if path else ""
        super().__init__(f"unknown language {tag!r}{where}")
        self.tag = tag

    def __str__(self) -> str:
        return str(self.args[0])


class AlertNotFound(BousaiError, LookupError):
    def __init__(self, alert_id: int | str) -> None:
        super().__init__(f"no alert with id {alert_id}")
        self.alert_id = alert_id

    def __str__(self) -> str:
        return str(self.args[0])


class SchemaOutOfDate(BousaiError, RuntimeError):
    pass


class OperatorError(BousaiError, PermissionError):
    pass


class IngestError(BousaiError, ValueError):
    def __init__(self, reason: str, *, source: str | None = None) -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source


class HostileDocument(IngestError):
    pass
