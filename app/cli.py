"""The ``alias-service`` command: serve | import | export | migrate | annotate."""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import archive, store
from app.aliasfile import dump_alias_file, read_alias_file
from app.audit import result_or_report
from app.bootstrap import prepare_when_reachable
from app.db import make_engine, migrate_exclusively
from app.errors import DomainError
from app.health import first_line
from app.http_limits import connection_limits
from app.settings import Settings, configuration_fault


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
    except ValidationError as error:
        fault = configuration_fault(error)
        print(f"alias-service: invalid configuration: {fault}", file=sys.stderr)
        return 1
    try:
        result: int = args.run(args, settings)
    except DomainError as error:
        print(f"alias-service: {error.detail}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:  # the database, unreachable or unusable: no traceback
        print(f"alias-service: database error: {first_line(error)}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alias-service",
        description="Turns free-text mentions into canonical entity IDs.",
        epilog="Configuration comes from the environment (DATABASE_URL, ADMIN_TOKEN, "
        "ALIASES_FILE and the limits): see the README's Configuration table.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
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

    load = commands.add_parser("import", help="load an alias file into the table")
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
    load.set_defaults(run=_import)

    export = commands.add_parser("export", help="write the table as an alias file")
    export.add_argument("file", type=Path, nargs="?", help="default: standard output")
    export.set_defaults(run=_export)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=_migrate
    )

    annotate = commands.add_parser(
        "annotate", help="annotate a JSON Lines archive with every record's mentions"
    )
    archive.add_arguments(annotate)
    annotate.set_defaults(run=archive.run)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.serving import serve

    # Set up once, before the workers start; wait here for a database still
    # coming up, and stop here with one line for one that can't be used.
    engine = make_engine(settings.database_url)
    prepare_when_reachable(
        engine=engine, aliases_file=settings.aliases_file, wait=settings.database_wait
    )
    engine.dispose()
    serve(
        settings=settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        options=uvicorn_options(args, settings),
    )
    return 0


def uvicorn_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Every option ``serve`` gives uvicorn, in one place."""
    return {
        **connection_limits(settings),
        # Behind a proxy, the client's address and scheme (hence the public
        # URLs the service writes) come from the proxy's X-Forwarded-* headers.
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
    }


def _import(args: argparse.Namespace, settings: Settings) -> int:
    source = read_alias_file(args.file.read_bytes(), media_type=_media_type(args.file))
    engine = make_engine(settings.database_url)
    migrate_exclusively(engine)
    mode: store.ImportMode = "replace" if args.replace else "merge"
    with Session(engine) as session:
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
    with Session(make_engine(settings.database_url)) as session:
        text = dump_alias_file(store.export_table(session=session))
    if args.file is None:
        sys.stdout.write(text)
    else:
        args.file.write_text(text, encoding="utf-8")
    return 0


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    migrate_exclusively(engine)
    return 0


def _media_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


if __name__ == "__main__":
    sys.exit(main())
