"""`python -m plexica_infra.core_api`: run the Core API emulator.

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

import argparse
import asyncio
import logging
import os
import socket
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

from plexica_infra.contract import CLIENT_SECRET_ENV_VAR, DEFAULT_DIALECT, DIALECTS, TOKEN_ENV_VAR

__all__ = ["DEFAULT_PORT", "PROG", "TOKEN_ENV_VAR", "main"]

PROG = "plexica-core-api"
#: The guide's Core API port.
DEFAULT_PORT = 3000
#: Seconds in-flight requests get to finish on SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 5
_LISTEN_BACKLOG = 512


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _fail(message: str, code: int) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not in 0-65535 (0 picks a free port)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"python -m plexica_infra.core_api ({PROG})",
        description="Core API emulator: plugin lifecycle, service registry and gateway.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--also-listen",
        action="append",
        default=[],
        metavar="HOST",
        help="another address to listen on, same port (repeatable), e.g. the Docker bridge "
        "address so that plugin containers reach the emulator through host-gateway",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port, 0 for any free one ({DEFAULT_PORT})")
    parser.add_argument(
        "--token",
        help=f"admin bearer token; prefer the {TOKEN_ENV_VAR} environment variable, which ps cannot show",
    )
    parser.add_argument(
        "--db", required=True, help="SQLite file that keeps the state across restarts (':memory:' keeps none)"
    )
    parser.add_argument(
        "--dialect", choices=DIALECTS, default=DEFAULT_DIALECT, help=f"admin API to serve ({DEFAULT_DIALECT})"
    )
    parser.add_argument(
        "--client-id",
        help=f"enable the client-credentials token endpoint for this client; its secret is {CLIENT_SECRET_ENV_VAR}",
    )
    parser.add_argument(
        "--token-ttl", type=_ttl, default=300, help="seconds an issued token lives (300; tests use a few seconds)"
    )
    parser.add_argument(
        "--allow-upstream",
        action="append",
        default=[],
        metavar="CIDR|HOST",
        help="also accept service endpoints on this network or host name (repeatable); loopback, private "
        "networks, single-label and cluster-local names are always accepted, link-local and metadata "
        "addresses never",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_body_limit,
        default=10 * 1024 * 1024,
        help="largest request body the gateway accepts; larger ones get 413 (10485760)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"], help="(info)")
    parser.add_argument("--no-access-log", action="store_true", help="do not log each request")
    return parser


def _resolve_token(flag: str | None) -> str:
    token = flag if flag is not None else os.environ.get(TOKEN_ENV_VAR)
    if token is None:
        raise _UsageError(f"no admin token: set {TOKEN_ENV_VAR} (or pass --token)")
    if not token.strip():
        raise _UsageError("the admin token is empty")
    if any(char.isspace() for char in token):
        raise _UsageError("the admin token must not contain whitespace")
    return token


def _ttl(value: str) -> int:
    try:
        ttl = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of seconds") from None
    if not 1 <= ttl <= 86_400:
        raise argparse.ArgumentTypeError(f"{ttl} is not in 1-86400 seconds")
    return ttl


def _body_limit(value: str) -> int:
    try:
        limit = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of bytes") from None
    if not 1 <= limit <= 1024**3:
        raise argparse.ArgumentTypeError(f"{limit} is not in 1-{1024**3} bytes")
    return limit


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
        _fail(f"cannot resolve --host {host}: {exc.strerror}", 1)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    try:
        args = _parser().parse_args(argv)
        token = _resolve_token(args.token)
        db = _resolve_db(args.db)
        clients = _resolve_clients(args.client_id)
    except _UsageError as exc:
        _fail(str(exc), 2)

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
        _fail(f"cannot open the database {db}: {exc}", 1)
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
