"""`ehbo`: the command line — database, server, worker, operators, graphs, the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from responders.db.cluster import ClusterError
from responders.errors import EhboError
from responders.settings import Settings

if TYPE_CHECKING:
    from responders.db.gateway import Database

__all__ = ["main"]

Handler = Callable[[argparse.Namespace, Settings], int]
T = TypeVar("T")


def _db_url(args: argparse.Namespace, settings: Settings) -> int:
    from responders.db.bootstrap import prepared_database

    with prepared_database(settings.db, stop=False) as database:
        print(database.url)
    return 0


def _db_stop(args: argparse.Namespace, settings: Settings) -> int:
    from responders.db.cluster import Cluster

    Cluster(settings.db.cluster_dir).stop()
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from responders.runner import serve

    return serve(settings, host=args.host, port=args.port, worker=args.worker)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from responders.delivery.process import run_worker

    return run_worker(settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from responders.runner import demo

    return demo(settings, host=args.host, port=args.port)


def _operators_create(args: argparse.Namespace, settings: Settings) -> int:
    from responders.registry.operators import create_operator

    created = asyncio.run(
        _with_database(settings, lambda db: create_operator(db, args.name, args.role))
    )
    print(f"operator {created.id} ({created.role}) {created.name}")
    print(f"token: {created.token}")
    return 0


def _operators_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from responders.registry.operators import revoke_operator

    asyncio.run(_with_database(settings, lambda db: revoke_operator(db, args.id)))
    print(f"operator {args.id} revoked")
    return 0


def _operators_list(args: argparse.Namespace, settings: Settings) -> int:
    from responders.registry.operators import list_operators

    for op in asyncio.run(_with_database(settings, list_operators)):
        state = f"revoked {op.revoked_at:%Y-%m-%d}" if op.revoked_at else "active"
        print(f"{op.id}\t{op.role}\t{state}\t{op.name}")
    return 0


def _graph_build(args: argparse.Namespace, settings: Settings) -> int:
    from routing import build_command

    print(build_command(args.file, str(settings.routing.cache_dir or "") or None))
    return 0


def _geocode_build(args: argparse.Namespace, settings: Settings) -> int:
    from responders.geo import default_extract
    from responders.geocode import build_from_extract

    path = Path(args.file) if args.file else settings.routing.osm_file or default_extract()
    report = asyncio.run(
        _with_database(
            settings,
            lambda db: build_from_extract(
                db, path, cache_dir=settings.routing.cache_dir, force=args.force
            ),
        )
    )
    if report.built:
        print(
            f"indexed {report.addresses} addresses, {report.streets} streets and "
            f"{report.places} places of {path.name}"
        )
    else:
        print(f"the address index of {path.name} is up to date")
    return 0


def _geocode_import(args: argparse.Namespace, settings: Settings) -> int:
    from responders.geocode import import_register

    path = Path(args.file)
    count = asyncio.run(
        _with_database(settings, lambda db: import_register(db, path, replace_osm=args.replace_osm))
    )
    replaced = "; OSM's addresses are no longer used" if args.replace_osm else ""
    print(f"imported {count} addresses from {path.name}{replaced}")
    return 0


async def _with_database(settings: Settings, action: Callable[[Database], Awaitable[T]]) -> T:
    from responders.db.bootstrap import prepared_database
    from responders.db.gateway import Database

    with prepared_database(settings.db, stop=False) as database:
        db = await Database.open(settings.db.model_copy(update={"url": database.url}))
        try:
            return await action(db)
        finally:
            await db.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ehbo", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the database").add_subparsers(dest="db", required=True)
    db.add_parser("url", help="start/migrate the database, print its URL").set_defaults(run=_db_url)
    db.add_parser("stop", help="stop the embedded cluster").set_defaults(run=_db_stop)

    for name, run, text in (("serve", _serve, "serve the API"), ("demo", _demo, "the demo")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default=None)
        sub.add_argument("--port", type=int, default=None)
        if name == "serve":
            sub.add_argument("--worker", action="store_true", help="run the push worker too")
        sub.set_defaults(run=run)
    commands.add_parser("worker", help="run the push worker").set_defaults(run=_worker)

    ops = commands.add_parser("operators", help="operator credentials").add_subparsers(
        dest="operators", required=True
    )
    create = ops.add_parser("create", help="create an operator and print its token")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["operator", "coordinator"], default="operator")
    create.set_defaults(run=_operators_create)
    revoke = ops.add_parser("revoke", help="revoke an operator's token")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_operators_revoke)
    ops.add_parser("list", help="list operators").set_defaults(run=_operators_list)

    graph = commands.add_parser("graph", help="walking graphs").add_subparsers(
        dest="graph", required=True
    )
    build = graph.add_parser("build", help="build and cache the walking graph of an extract")
    build.add_argument("file")
    build.set_defaults(run=_graph_build)

    geocode = commands.add_parser("geocode", help="the address index").add_subparsers(
        dest="geocode", required=True
    )
    index = geocode.add_parser(
        "build", help="index the addresses, streets and places of an extract (if it changed)"
    )
    index.add_argument("file", nargs="?", help="default: the routing extract")
    index.add_argument("--force", action="store_true", help="rebuild even if unchanged")
    index.set_defaults(run=_geocode_build)
    register = geocode.add_parser(
        "import", help="import an address register (CSV: street,housenumber,postcode,city,lat,lon)"
    )
    register.add_argument("file")
    register.add_argument(
        "--replace-osm",
        action="store_true",
        help="the register is the authority: OSM's addresses are dropped (streets, places stay)",
    )
    register.set_defaults(run=_geocode_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Migrations run at every start; their step-by-step log is noise there.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Handler = args.run
    try:
        return handler(args, Settings())
    except EhboError as exc:
        print(f"ehbo: {exc.detail}", file=sys.stderr)
        return 2
    except ClusterError as exc:
        print(f"ehbo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
