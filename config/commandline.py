"""How manage.py fails when a server it needs is not there: one line that says which server,
why and what to do, instead of a traceback (`--traceback` still shows it). In development
that usually means the command was run without the servers `make run` starts."""

import os
import sys
from collections.abc import Callable

DEVELOPMENT_ADVICE = (
    'In development, run the command with the servers: make manage ARGS="<command> ..." '
    "(see README.md, Development)."
)


def _reason(error: BaseException) -> str:
    """The error's first line, on one line, without a closing full stop (it goes in brackets)."""
    lines = [" ".join(line.split()) for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__).rstrip(".")


def advice(variable: str) -> str:
    """What to do about a server that `variable` names (or, unset, the default one)."""
    from django.conf import settings

    if not settings.PRODUCTION and not os.environ.get(variable):
        return f"{variable} is not set. {DEVELOPMENT_ADVICE}"
    return f"Check {variable} and that the server is running."


def _database_address() -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{database.get('NAME', '')} at {host}{port}"


def _database_unreachable(error: BaseException) -> bool:
    """A database error from a connection that never opened (not a failed query)."""
    from django.db import OperationalError, connections

    return isinstance(error, OperationalError) and connections["default"].connection is None


def _redis_unreachable(error: BaseException) -> bool:
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(error, BrokerError | RedisConnectionError | RedisTimeoutError)


def unreachable_server_message(error: BaseException) -> str | None:
    """The one line to print for `error` if it says a server cannot be reached, else None."""
    if _database_unreachable(error):
        return (
            f"manage.py: cannot connect to the database {_database_address()} "
            f"({_reason(error)}). {advice('DATABASE_URL')}"
        )
    if _redis_unreachable(error):
        return f"manage.py: cannot connect to Redis ({_reason(error)}). {advice('REDIS_URL')}"
    return None


def run_command(argv: list[str], execute: Callable[[list[str]], None]) -> int:
    """Run a management command line; exit status 1 with one line on stderr when a server it
    needs cannot be reached."""
    try:
        execute(argv)
    except Exception as error:
        message = None if "--traceback" in argv else unreachable_server_message(error)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
    return 0
