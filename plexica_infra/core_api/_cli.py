"""`python -m plexica_infra.core_api`: run the Core API emulator (typer).

The token comes from `--token` or, so that it never shows in `ps`, from the
environment variable PLEXICA_CORE_API_TOKEN (the flag wins when both are set).
`--dialect plexica-v1` serves the real Core API's admin API instead of the guide's.
`--client-id ID` (secret in PLEXICA_CORE_API_CLIENT_SECRET) enables the OAuth2
client-credentials token endpoint; its tokens live `--token-ttl` seconds.
Once listening, the emulator prints one line to stdout, `listening on <url>`, so
a caller that passed `--port 0` learns the port. Logs go to stderr and never
contain the token. A bad argument prints one line and exits 2; a runtime
failure (port taken, unreadable database) prints one line and exits 1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer

from plexica_infra.contract import CLIENT_SECRET_ENV_VAR, DEFAULT_DIALECT, TOKEN_ENV_VAR, DialectName

__all__ = ["DEFAULT_PORT", "PROG", "TOKEN_ENV_VAR", "main"]

PROG = "plexica-core-api"
#: The guide's Core API port.
DEFAULT_PORT = 3000
#: Seconds in-flight requests get to finish on SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 5
#: Matches `_state.DEFAULT_MAX_BODY_BYTES` (not imported: argument errors must not wait
#: for Starlette and pydantic to load).
_DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
_LISTEN_BACKLOG = 512
EXIT_USAGE = 2
EXIT_FAIL = 1

LogLevel = Literal["debug", "info", "warning", "error"]


class _UsageError(Exception):
    pass


def _fail(message: str, code: int) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def _whole_number(value: str, what: str, low: int, high: int, hint: str = "") -> int:
    try:
        number = int(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not {what}") from None
    if not low <= number <= high:
        raise typer.BadParameter(f"{number} is not in {low}-{high}{hint}")
    return number


def _port(value: str) -> int:
    return _whole_number(value, "a port number", 0, 65535, " (0 picks a free port)")


def _ttl(value: str) -> int:
    return _whole_number(value, "a whole number of seconds", 1, 86_400, " seconds")


def _body_limit(value: str) -> int:
    return _whole_number(value, "a whole number of bytes", 1, 1024**3, " bytes")


@dataclass(frozen=True)
class _Options:
    db: str
    host: str
    also_listen: list[str]
    port: int
    token: str | None
    dialect: DialectName
    client_id: str | None
    token_ttl: int
    allow_upstream: list[str]
    max_body_bytes: int
    log_level: LogLevel
    no_access_log: bool


app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Core API emulator: plugin lifecycle, service registry and gateway.",
)


@app.command()
def _options(
    db: Annotated[str, typer.Option(help="SQLite file that keeps the state across restarts (':memory:' keeps none)")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    also_listen: Annotated[
        list[str] | None,
        typer.Option(
            metavar="HOST",
            help="another address to listen on, same port (repeatable), e.g. the Docker bridge "
            "address so that plugin containers reach the emulator through host-gateway",
        ),
    ] = None,
    port: Annotated[int, typer.Option(parser=_port, help="port, 0 for any free one")] = DEFAULT_PORT,
    token: Annotated[
        str | None,
        typer.Option(help=f"admin bearer token; prefer the {TOKEN_ENV_VAR} environment variable, which ps cannot show"),
    ] = None,
    dialect: Annotated[DialectName, typer.Option(help="admin API to serve")] = DEFAULT_DIALECT,
    client_id: Annotated[
        str | None,
        typer.Option(
            help=f"enable the client-credentials token endpoint for this client; its secret is {CLIENT_SECRET_ENV_VAR}"
        ),
    ] = None,
    token_ttl: Annotated[
        int, typer.Option(parser=_ttl, help="seconds an issued token lives (tests use a few seconds)")
    ] = 300,
    allow_upstream: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CIDR|HOST",
            help="also accept service endpoints on this network or host name (repeatable); loopback, private "
            "networks, single-label and cluster-local names are always accepted, link-local and metadata "
            "addresses never",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int, typer.Option(parser=_body_limit, help="largest request body the gateway accepts; larger ones get 413")
    ] = _DEFAULT_MAX_BODY_BYTES,
    log_level: Annotated[LogLevel, typer.Option(help="log level")] = "info",
    no_access_log: Annotated[bool, typer.Option("--no-access-log", help="do not log each request")] = False,
) -> _Options:
    """Core API emulator: plugin lifecycle, service registry and gateway."""
    return _Options(
        db=db,
        host=host,
        also_listen=list(also_listen or []),
        port=port,
        token=token,
        dialect=dialect,
        client_id=client_id,
        token_ttl=token_ttl,
        allow_upstream=list(allow_upstream or []),
        max_body_bytes=max_body_bytes,
        log_level=log_level,
        no_access_log=no_access_log,
    )


def _parse(argv: list[str] | None) -> _Options | None:
    """The options, or None when `--help` was answered; a bad argument is one line, exit 2."""
    args = sys.argv[1:] if argv is None else argv
    try:
        parsed = typer.main.get_command(app).main(
            args, prog_name=f"python -m plexica_infra.core_api ({PROG})", standalone_mode=False
        )
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        _fail("interrupted", 130)
    except typer.TyperException as exc:  # click's usage errors, as typer ships them
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(message, int(getattr(exc, "exit_code", EXIT_USAGE)))
    return parsed if isinstance(parsed, _Options) else None


def _resolve_token(flag: str | None) -> str:
    token = flag if flag is not None else os.environ.get(TOKEN_ENV_VAR)
    if token is None:
        raise _UsageError(f"no admin token: set {TOKEN_ENV_VAR} (or pass --token)")
    if not token.strip():
        raise _UsageError("the admin token is empty")
    if any(char.isspace() for char in token):
        raise _UsageError("the admin token must not contain whitespace")
    return token


def _resolve_clients(client_id: str | None) -> dict[str, str]:
    if client_id is None:
        return {}
    secret = os.environ.get(CLIENT_SECRET_ENV_VAR, "")
    if not secret.strip():
        raise _UsageError(f"--client-id needs the client secret in {CLIENT_SECRET_ENV_VAR}")
    return {client_id: secret}


def _resolve_db(value: str) -> str:
    if value == ":memory:":
        return value
    path = Path(value)
    if path.is_dir():
        raise _UsageError(f"--db {value}: is a directory; give a file path")
    if not path.parent.is_dir():
        raise _UsageError(f"--db {value}: directory {path.parent} does not exist")
    return str(path)


def _listen(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        _fail(f"cannot resolve --host {host}: {exc.strerror}", EXIT_FAIL)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_FAIL)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    if args is None:
        return
    try:
        token = _resolve_token(args.token)
        db = _resolve_db(args.db)
        clients = _resolve_clients(args.client_id)
    except _UsageError as exc:
        _fail(str(exc), EXIT_USAGE)

    # Imported only now, so that a bad argument is reported at once.
    import uvicorn

    from plexica_infra.core_api._app import create_app
    from plexica_infra.core_api._store import Store
    from plexica_infra.core_api._tokens import TokenIssuer
    from plexica_infra.core_api._upstreams import UpstreamPolicy

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    log = logging.getLogger("plexica.core_api")
    # One line per outbound probe or proxied call is noise; the emulator logs the outcomes.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    if args.token is not None:
        log.warning("--token is visible in the process list; prefer %s", TOKEN_ENV_VAR)

    try:
        store = Store(db)
    except sqlite3.Error as exc:
        _fail(f"cannot open the database {db}: {exc}", EXIT_FAIL)
    sock = _listen(args.host, args.port)
    url = _url(sock)
    port = sock.getsockname()[1]
    sockets = [sock, *(_listen(host, port) for host in args.also_listen)]
    config = uvicorn.Config(
        create_app(
            token=token,
            store=store,
            dialect=args.dialect,
            tokens=TokenIssuer(clients, float(args.token_ttl)) if clients else None,
            upstream_policy=UpstreamPolicy(tuple(args.allow_upstream)),
            max_body_bytes=args.max_body_bytes,
        ),
        http="h11",  # the fault injector's connection drop relies on h11's transport
        lifespan="on",
        log_config=None,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    also = "".join(f", also on {_url(extra)}" for extra in sockets[1:])
    log.info("listening on %s%s (dialect %s, database %s)", url, also, args.dialect, db)
    print(f"listening on {url}", flush=True)
    try:
        asyncio.run(uvicorn.Server(config).serve(sockets=sockets))
    except KeyboardInterrupt:
        pass
    finally:
        for listening in sockets:
            listening.close()
        store.close()
