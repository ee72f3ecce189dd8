"""The ``alias-service`` command: serve | import | export | migrate."""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session

from app import store
from app.aliasfile import dump_alias_file, read_alias_file
from app.db import make_engine, migrate_exclusively
from app.errors import DomainError
from app.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        result: int = args.run(args, Settings())
    except DomainError as error:
        print(f"alias-service: {error.detail}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alias-service",
        description="Turns free-text mentions into canonical entity IDs.",
        epilog="Configuration comes from DATABASE_URL, ADMIN_TOKEN and ALIASES_FILE.",
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
    serve.set_defaults(run=_serve)

    load = commands.add_parser("import", help="load an alias file into the table")
    load.add_argument("file", type=Path)
    load.add_argument(
        "--replace", action="store_true", help="make the table exactly the file's content"
    )
    load.set_defaults(run=_import)

    export = commands.add_parser("export", help="write the table as an alias file")
    export.add_argument("file", type=Path, nargs="?", help="default: standard output")
    export.set_defaults(run=_export)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=_migrate
    )
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.serving import serve

    serve(settings=settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    entries = read_alias_file(args.file.read_bytes(), media_type=_media_type(args.file))
    engine = make_engine(settings.database_url)
    migrate_exclusively(engine)
    mode: store.ImportMode = "replace" if args.replace else "merge"
    with Session(engine) as session:
        report = store.import_entities(session=session, actor="cli", entries=entries, mode=mode)
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
