"""The ``alias-service`` command: serve | import | export | migrate | annotate."""

import argparse
import errno
import gc
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import progress, store
from app.aliasfile import alias_file_parts, read_alias_file
from app.audit import result_or_report
from app.bootstrap import prepare_when_reachable
from app.command_files import CommandFailed, written
from app.db import make_engine, migrate_exclusively, require_existing_database, schema_is_current
from app.errors import DomainError, InvalidAliasFile
from app.health import first_line
from app.live_index import LiveIndex
from app.matching.derived_forms import usable_cores
from app.settings import MAX_WORKERS, Settings, configuration_fault


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet = getattr(args, "progress", None) is False
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.migration").addFilter(_schema_steps_only)
    try:
        settings = Settings()
    except ValidationError as error:
        fault = configuration_fault(error)
        print(f"alias-service: invalid configuration: {fault}", file=sys.stderr)
        return 1
    try:
        with _terminated_as_interrupted():
            result: int = args.run(args, settings)
    except CommandFailed as error:
        print(f"alias-service: {error}", file=sys.stderr)
        return 1
    except DomainError as error:
        print(f"alias-service: {error.detail}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:  # the database, unreachable or unusable: no traceback
        print(f"alias-service: database error: {first_line(error)}", file=sys.stderr)
        return 1
    except OSError as error:  # the system refused (no process, no memory): still one line
        print(f"alias-service: {error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:  # what was under way is rolled back or left whole
        terminated = isinstance(stop, _Terminated)
        print(f"alias-service: {'stopped' if terminated else 'interrupted'}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    return result


class _Terminated(KeyboardInterrupt):
    """SIGTERM, unwinding as Ctrl-C does: files half-written are removed, workers stopped."""


@contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM raises ``_Terminated`` within the block (``serve`` hands the signal
    to uvicorn, which installs its own handler). Left as it was elsewhere than
    in the main thread, where no handler can be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(_signal: int, _frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _schema_steps_only(record: logging.LogRecord) -> bool:
    """Alembic's notes on every connection ("Context impl SQLiteImpl.") say nothing
    to a person; the steps of a migration that runs do."""
    return not record.getMessage().startswith(("Context impl", "Will assume"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alias-service",
        description="Turns free-text mentions into canonical entity IDs.",
        epilog="Configuration comes from the environment (DATABASE_URL, ADMIN_TOKEN, "
        "ALIASES_FILE and the limits): see the README's Configuration table.",
    )
    parser.add_argument("--version", action="version", version=f"alias-service {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    _add_serve(commands.add_parser("serve", help="run the HTTP API"))
    _add_import(commands.add_parser("import", help="load an alias file into the table"))
    _add_export(commands.add_parser("export", help="write the table as an alias file"))
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=_migrate
    )
    annotate = commands.add_parser(
        "annotate", help="annotate a JSON Lines archive with every record's mentions"
    )
    _add_annotate(annotate)
    return parser


def _add_serve(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes, forked after the index is loaded so that they share it",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses (or *) of proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; default: $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1",
    )
    serve.set_defaults(run=_serve)


def _add_import(load: argparse.ArgumentParser) -> None:
    load.add_argument("file", type=Path)
    load.add_argument(
        "--replace", action="store_true", help="make the table exactly the file's content"
    )
    load.add_argument(
        "--allow-empty",
        action="store_true",
        help="let --replace with a file of no entities empty the table",
    )
    load.add_argument(
        "--allow-shared",
        action="store_true",
        help="accept forms that the file makes shared by several entities",
    )
    load.add_argument(
        "--dry-run",
        action="store_true",
        help="report what the import would change, and write nothing",
    )
    _add_create_option(load)
    progress.add_options(load)
    load.set_defaults(run=_import)


def _add_export(export: argparse.ArgumentParser) -> None:
    export.add_argument(
        "file", type=Path, nargs="?", help="JSON if it ends in .json; default: standard output"
    )
    _add_create_option(export)
    progress.add_options(export)
    export.set_defaults(run=_export)


def _add_annotate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="JSON Lines, gzipped or not; - for stdin")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="where the annotated records go, gzipped when it ends in .gz; - for stdout",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=usable_cores(),
        metavar="N",
        help="processes that annotate, sharing one index (default: every core)",
    )
    parser.add_argument(
        "--types",
        nargs="+",
        action="extend",
        metavar="TYPE",
        help="only entities of these types",
    )
    parser.add_argument(
        "--text-field", default="text", metavar="NAME", help="the field with the text"
    )
    progress.add_options(parser)
    parser.set_defaults(run=_annotate)


def _whole_number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {value!r}") from None


def _workers(value: str) -> int:
    number = _whole_number(value)
    if not 1 <= number <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_WORKERS}")
    return number


def _port(value: str) -> int:
    # The system takes a larger number modulo 65,536: the service would listen
    # on another port than the one it names.
    number = _whole_number(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError("must be a port number, 1 to 65535")
    return number


def _annotate(args: argparse.Namespace, settings: Settings) -> int:
    # Imported by the one command that uses it: ``serve`` begins its index's
    # build before it imports the web application, which archive imports too.
    from app import archive

    return archive.run(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    # A port another server holds is said now, not once the index has loaded.
    if _port_in_use(args.host, args.port):
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: a server listens there")
    # The service's engine is its live index's (``create_app``).
    live_index = LiveIndex.for_settings(settings)
    # Set up once, before the workers start; wait here for a database still
    # coming up, and stop here with one line for one that can't be used.
    prepare_when_reachable(
        engine=live_index.engine, aliases_file=settings.aliases_file, wait=settings.database_wait
    )
    live_index.engine.dispose()
    # The index's build begins before the web application is imported and
    # made (a third of a second), which its child process's reading of the
    # table then overlaps.
    live_index.begin_load()
    from app.serving import serve

    serve(
        settings=settings.listening_at(args.host, args.port),
        host=args.host,
        port=args.port,
        workers=args.workers,
        options=uvicorn_options(args, settings),
        live_index=live_index,
    )
    return 0


def _port_in_use(host: str, port: int) -> bool:
    """Whether a server listens on ``port`` at an address ``host`` names: a
    socket bound there as asyncio binds uvicorn's (reusing an address no longer
    listened on, IPv6 apart from IPv4) is refused. Any other failure is left
    for uvicorn to meet, as before."""
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError:
        return False
    for family, kind, protocol, _, address in addresses:
        try:
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
    return False


def uvicorn_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Every option ``serve`` gives uvicorn, in one place."""
    from app.http_limits import connection_limits  # uvicorn's: imported once the build began

    return {
        **connection_limits(settings),
        # Behind a proxy, the client's address and scheme (hence the public
        # URLs the service writes) come from the proxy's X-Forwarded-* headers.
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
    }


def _add_create_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--create",
        action="store_true",
        help="without DATABASE_URL, create the default database file when it does not exist",
    )


def _import(args: argparse.Namespace, settings: Settings) -> int:
    with _collecting_only_new_objects():
        return _import_file(args, settings)


@contextmanager
def _collecting_only_new_objects() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's rounds, for the block.

    An import makes millions of short-lived objects, and each full collection
    would walk every object loaded before it too (modules, the ORM's mappings):
    about a tenth of a large import's time.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _import_file(args: argparse.Namespace, settings: Settings) -> int:
    raw = _read(args.file)
    source = read_alias_file(raw, media_type=_media_type(args.file))
    if args.dry_run:  # the whole file checked before the database is even opened
        with _naming(args.file):
            entities = list(source.entities)
        source.entities = iter(entities)
        engine = _current_database(settings)
    else:
        engine = _table_database(settings, create=args.create)
        migrate_exclusively(engine)
    mode: store.ImportMode = "replace" if args.replace else "merge"
    bar = progress.progress_bar(description=args.file.name, unit="entities", shown=args.progress)
    with Session(engine) as session, bar as shown, _naming(args.file):
        source.entities = progress.counted(source.entities, shown)
        report = result_or_report(
            lambda: store.import_alias_file(
                session=session,
                actor="cli",
                source=source,
                mode=mode,
                allow_empty=args.allow_empty,
                allow_shared=args.allow_shared,
                dry_run=args.dry_run,
            )
        )
    print(report.model_dump_json())
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    engine = _table_database(settings, create=args.create)
    if args.create:  # a database just created has no tables yet
        migrate_exclusively(engine)
    with Session(engine) as session:
        table = store.export_table(session=session)
    name = "export" if args.file is None else args.file.name
    bar = progress.progress_bar(description=name, unit="entities", shown=args.progress)
    with bar as shown, written(None if args.file is None else str(args.file)) as output:
        shown.total = len(table.entities)
        as_json = args.file is not None and _media_type(args.file) == "application/json"
        for text, entities in alias_file_parts(table, as_json=as_json):
            output.write(text.encode())
            shown.update(entities)
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandFailed(f"{path}: {error.strerror or error}") from None


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """A fault of the file's content, as one line that begins with the file's name."""
    try:
        yield
    except InvalidAliasFile as error:
        raise CommandFailed(f"{path}: {error.detail}") from None


def _table_database(settings: Settings, *, create: bool) -> Engine:
    """The database ``import`` and ``export`` work on. Without DATABASE_URL, the
    default file must exist unless ``create``."""
    if not (create or "database_url" in settings.model_fields_set):
        require_existing_database(settings.database_url, remedy="pass --create or set DATABASE_URL")
    return make_engine(settings.database_url)


def _current_database(settings: Settings) -> Engine:
    """The database a dry run reads: one that exists with its schema up to date,
    since a dry run neither creates nor migrates one."""
    require_existing_database(settings.database_url, remedy="a dry run creates none")
    engine = make_engine(settings.database_url)
    if not schema_is_current(engine):
        raise CommandFailed(
            "the database schema is not up to date; a dry run does not migrate it: "
            "run alias-service migrate first"
        )
    return engine


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    migrate_exclusively(engine)
    return 0


def _version() -> str:
    try:
        return metadata.version("alias-service")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _media_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


if __name__ == "__main__":
    sys.exit(main())
