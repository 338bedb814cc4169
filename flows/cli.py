"""The `newsflow` command line: ingest, watch, serve and query."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import ExitStack
from pathlib import Path

EXAMPLES = {
    "inbox": "example:\n  newsflow ingest inbox ./inbox --db newsflow.duckdb   (Ctrl-C stops within seconds; files not\n"
             "  yet archived stay in the inbox, and the next run finishes them without ingesting anything twice)\n"
             "  newsflow ingest inbox ./inbox --dask-address tcp://10.0.0.5:8786   (the stages on an existing Dask cluster)",
    "feeds": "example:\n  newsflow ingest feeds https://example.com/rss.xml feeds.txt subscriptions.opml",
    "urls": "example:\n  newsflow ingest urls https://example.com/news/2025/07/some-article",
    "sitemaps": "example:\n  newsflow ingest sitemaps https://example.com/news-sitemap.xml sitemaps.txt\n"
                "  (an index is followed; the first poll takes entries of the last 2 days, NEWSFLOW_FIRST_POLL_DAYS)",
    "sources": "examples:\n  newsflow sources add https://example.com/   (find its feeds and sitemaps, subscribe, poll once)\n"
               "  newsflow sources                          (each source: status, entries per day, failures)\n"
               "  newsflow sources remove https://example.com/   (its history stays)\n"
               "Scheduled runs poll the subscribed sources: the `feeds` deployment of prefect.yaml (subscribed: true).",
    "watch": "example:\n  newsflow watch ./inbox --db newsflow.duckdb   (Ctrl-C stops after the batch in hand)\n"
             "  newsflow watch ./inbox --dask-address tcp://10.0.0.5:8786   (the stages on an existing Dask cluster)",
    "serve": "example:\n  PREFECT_API_URL=http://127.0.0.1:4200/api newsflow serve",
    "search": "example:\n  newsflow search \"Xi Putin\" --since 2025-01-01 --limit 5\n\n"
              "Ranks by BM25 over title and text (words read as DuckDB fts reads them: Porter stems, English stopwords).\n"
              "The index is a side file (<db>.search.duckdb beside a .duckdb file or SQLite catalog) that each search\n"
              "brings up to date incrementally: the articles landed since the last search are added first.",
    "export": "example:\n  newsflow export newsflow-export --db newsflow.duckdb\n"
              "  newsflow import newsflow-export --db ducklake:sqlite:lake.sqlite   (move a file's rows to a lake)",
    "import": "example:\n  newsflow import newsflow-export --db newsflow.duckdb   (an empty database only)",
    "view": "example:\n  newsflow view --db newsflow.duckdb --port 8765\n\n"
            "then open http://127.0.0.1:8765/ : overview, articles (search, filters), an article's removed lines, "
            "entities, quarantine. Read-only; it reads between a writer's batches, so `newsflow watch` keeps running.",
    "sql": "example:\n  newsflow sql \"SELECT title, published_at FROM articles ORDER BY first_seen_at DESC LIMIT 5\" --format csv\n\n"
           "One read-only statement per call, on the database only: no other file or database, no settings,\n"
           "no extensions, unless --allow-files DIR opens the files under DIR to reading, e.g.\n"
           "  newsflow sql \"SELECT count(*) FROM read_csv('exports/sources.csv')\" --allow-files exports",
}


def _default(name: str, fallback: str) -> str:
    return os.environ.get(f"NEWSFLOW_{name}", fallback)


def _add_db(parser: argparse.ArgumentParser, *, writes: bool = False) -> None:
    parser.add_argument("--db", default=_default("DB", "newsflow.duckdb"), metavar="FILE.duckdb|ducklake:sqlite:PATH|ducklake:postgres:CONNINFO",
                        help="the database: a DuckDB file, or a DuckLake whose catalog is a SQLite file (readers and writers in "
                             "many processes) or PostgreSQL (many machines) (default: %(default)s, env NEWSFLOW_DB)")
    if writes:
        parser.add_argument("--data-path", default=os.environ.get("NEWSFLOW_DATA_PATH"), metavar="DIR",
                            help="where a new lake keeps its Parquet files (default: <catalog>.files/ beside a SQLite catalog; "
                                 "env NEWSFLOW_DATA_PATH); the lake remembers it")


def _add_dask_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dask-address", default=os.environ.get("NEWSFLOW_DASK_ADDRESS"), metavar="tcp://HOST:PORT",
        help="run extraction, cleaning and NER on the Dask cluster of this scheduler (env NEWSFLOW_DASK_ADDRESS); its "
             "workers need `pip install newsflow` and must reach this command's Prefect API (they get its URL with each "
             "task): on other machines, set PREFECT_API_URL to a server they can reach, e.g. http://HOST:4200/api. "
             "The database stays here: this process is its one writer. Default: a local cluster of NEWSFLOW_WORKERS "
             "processes, or this process for a few documents",
    )


def _add_fetch_options(sub: argparse.ArgumentParser) -> None:
    """The options of every command that fetches: database, safety switches, batch size, entities, cluster."""
    _add_db(sub, writes=True)
    sub.add_argument("--allow-private", action="store_true", default=_default("ALLOW_PRIVATE", "") in {"1", "true", "yes"},
                     help="allow loopback/private addresses (local feeds, tests); env NEWSFLOW_ALLOW_PRIVATE=1")
    sub.add_argument("--allow-network", action="append", metavar="CIDR", help="allow this private network only (repeatable), e.g. 10.1.0.0/16")
    sub.add_argument("--no-robots", action="store_true", help="do not consult robots.txt (only for sites you may crawl)")
    sub.add_argument("--batch-size", type=int, default=None, help="documents per micro-batch (default 200)")
    sub.add_argument("--no-entities", action="store_true", help="skip named-entity extraction")
    _add_dask_address(sub)


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds >= 0")
    return value


def _date(text: str):
    from datetime import datetime, timezone

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a date (YYYY-MM-DD) or an ISO time") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number >= 1")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with an example in every command's help."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="newsflow",
        description="Ingest news articles (inbox files, feeds, web pages) into DuckDB: cleaned, deduplicated, with entities.",
        epilog="examples:\n  newsflow ingest inbox ./inbox\n  newsflow sql \"SELECT count(*) FROM articles\"\n\n"
               "Prefect: ingest and watch runs use the server at PREFECT_API_URL (or the active Prefect profile);\n"
               "without one they start `prefect server start` on a free loopback port for the command's duration (its\n"
               "Dask workers report to it too); a long-running server and PREFECT_API_URL save that start-up.\n\n"
               "Settings: NEWSFLOW_<FIELD> environment variables override the defaults of extractors/settings.py,\n"
               "e.g. NEWSFLOW_WORKERS (processes of the local Dask cluster); NEWSFLOW_CACHE_DIR (default ~/.cache/newsflow) holds the unpacked\n"
               "language model.\n\n"
               "Exit status: 0 done (rejected files are in quarantine/ and in the summary), 1 an error (database,\n"
               "Prefect server), 2 a missing folder or database or a bad argument, 130 stopped by Ctrl-C. SIGTERM\n"
               "ends a feeds or urls run within seconds, the process dying by that signal (143 in a shell).",
        formatter_class=formatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show Prefect's and Dask's logs, the Prefect server's output and the HTML extractors' warnings")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="ingest once: inbox, feeds, sitemaps or urls", epilog=EXAMPLES["inbox"], formatter_class=formatter)
    sources = ingest.add_subparsers(dest="source", required=True)
    inbox = sources.add_parser("inbox", help="process every file now in the inbox folder", epilog=EXAMPLES["inbox"], formatter_class=formatter)
    inbox.add_argument("dir", nargs="?", default=_default("INBOX", "inbox"), help="inbox folder (default: %(default)s, env NEWSFLOW_INBOX)")
    _add_db(inbox, writes=True)
    inbox.add_argument("--archive", default=os.environ.get("NEWSFLOW_ARCHIVE"), help="where landed originals go (default: archive/ beside the inbox)")
    inbox.add_argument("--quarantine", default=os.environ.get("NEWSFLOW_QUARANTINE"), help="where rejected originals go, with a .error note (default: quarantine/ beside the inbox)")
    inbox.add_argument("--batch-size", type=int, default=None, help="files per micro-batch (default 200, env NEWSFLOW_BATCH_SIZE)")
    inbox.add_argument("--no-entities", action="store_true", help="skip named-entity extraction")
    _add_dask_address(inbox)

    for name, what in (("feeds", "feed URLs, text files of URLs, or OPML files"),
                       ("sitemaps", "sitemap URLs (urlset, index, news, .xml.gz, text) or text files of them"),
                       ("urls", "web page URLs")):
        sub = sources.add_parser(name, help=f"fetch and ingest {what}", epilog=EXAMPLES[name], formatter_class=formatter)
        sub.add_argument("sources", nargs="+", help=what)
        _add_fetch_options(sub)
        if name == "feeds":
            sub.add_argument("--no-fetch", action="store_true", help="use only what the feed carries; never fetch linked pages")

    listed = commands.add_parser("sources", help="list the feeds and sitemaps polled, with their health; add or remove sites",
                                 epilog=EXAMPLES["sources"], formatter_class=formatter)
    _add_db(listed)
    actions = listed.add_subparsers(dest="action")
    add = actions.add_parser("add", help="find a site's feeds and sitemaps from its home page, subscribe, poll them",
                             epilog=EXAMPLES["sources"], formatter_class=formatter)
    add.add_argument("sites", nargs="+", help="home page URLs, e.g. https://example.com/")
    _add_fetch_options(add)
    add.add_argument("--no-poll", action="store_true", help="record the sources found; leave polling to the scheduled runs")
    remove = actions.add_parser("remove", help="stop polling sources (by source URL, or the site URL they were added with)",
                                epilog=EXAMPLES["sources"], formatter_class=formatter)
    remove.add_argument("urls", nargs="+")
    _add_db(remove)

    watch = commands.add_parser("watch", help="keep running: ingest files as they are dropped in the inbox", epilog=EXAMPLES["watch"], formatter_class=formatter)
    watch.add_argument("dir", nargs="?", default=_default("INBOX", "inbox"), help="inbox folder (default: %(default)s)")
    _add_db(watch, writes=True)
    watch.add_argument("--settle", type=float, default=0.5, help="seconds a file must stay unchanged before it is taken (default: %(default)s; files renamed into place are taken at once)")
    watch.add_argument("--sweep", type=float, default=10.0, help="seconds between full scans of the inbox, the backstop for missed events (default: %(default)s)")
    watch.add_argument("--batch-size", type=int, default=None, help="files per micro-batch (default 200, env NEWSFLOW_BATCH_SIZE)")
    watch.add_argument("--no-entities", action="store_true", help="skip named-entity extraction")
    _add_dask_address(watch)

    commands.add_parser("serve", help="run the deployments of prefect.yaml on their schedules in one process", epilog=EXAMPLES["serve"], formatter_class=formatter)

    sql = commands.add_parser("sql", help="run a SQL query on a read-only connection", epilog=EXAMPLES["sql"], formatter_class=formatter)
    sql.add_argument("query", help="the SQL to run")
    _add_db(sql)
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: %(default)s)")
    sql.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS", help="stop the query after this long (default: %(default)g; 0: no limit)")
    sql.add_argument("--wait", type=_seconds, default=30.0, metavar="SECONDS",
                     help="how long to wait while a writer holds the database (default: %(default)g)")
    sql.add_argument("--allow-files", action="append", default=[], metavar="DIR",
                     help="let the query read files under DIR (read_csv, read_parquet, glob...; repeatable); no other file is reachable")

    search = commands.add_parser("search", help="rank articles by BM25 over title and text, with a snippet each",
                                 epilog=EXAMPLES["search"], formatter_class=formatter)
    search.add_argument("query", help="words to look for (any of them; articles with more of them, and rarer ones, rank higher)")
    _add_db(search)
    search.add_argument("--since", type=_date, metavar="DATE", help="only articles published (or first seen) on or after DATE (YYYY-MM-DD, or an ISO time)")
    search.add_argument("--limit", type=_positive, default=10, metavar="N", help="at most N articles (default: %(default)s)")
    search.add_argument("--wait", type=_seconds, default=30.0, metavar="SECONDS",
                        help="how long to wait while a writer holds a .duckdb file (default: %(default)g)")

    view = commands.add_parser("view", help="a read-only web view of what landed, on 127.0.0.1",
                               epilog=EXAMPLES["view"], formatter_class=formatter)
    _add_db(view)
    view.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default: %(default)s)")
    view.add_argument("--wait", type=_seconds, default=5.0, metavar="SECONDS",
                      help="how long a page waits while a writer holds a .duckdb file before saying data is being "
                           "written (default: %(default)g)")

    for name, what in (("export", "write every table to DIR/<table>.parquet (a copy to move to another --db, e.g. a lake)"),
                       ("import", "fill an empty database from DIR/<table>.parquet (newsflow export, or EXPORT DATABASE "
                                  "... (FORMAT parquet) of another DuckDB)")):
        sub = commands.add_parser(name, help=what, epilog=EXAMPLES[name], formatter_class=formatter)
        sub.add_argument("dir", help="the export folder")
        _add_db(sub, writes=name == "import")
    return parser


def _check_folders(args) -> None:
    """A missing inbox, or an archive or quarantine folder that cannot serve, said before anything starts."""
    from newsflow.flows.ingest import check_inbox

    if args.command == "ingest" and args.source == "inbox":
        check_inbox(args.dir, args.archive, args.quarantine)
    elif args.command == "watch" and Path(args.dir).is_dir():
        check_inbox(args.dir)


def run_command(args) -> None:
    """Call the command's flow (or run the query) and print its summary."""
    from newsflow.flows.report import print_query, print_summary

    if args.command == "view":
        from newsflow.view.app import serve

        serve(args.db, port=args.port, wait_s=args.wait)
    elif args.command == "search":
        from newsflow.flows.report import print_search

        print_search(args.db, args.query, args.since, args.limit, args.wait)
    elif args.command in ("export", "import"):
        from newsflow.flows.report import print_transfer

        print_transfer(args.command, args.db, args.dir)
    elif args.command == "sql":
        print_query(args.db, args.query, args.format, args.timeout or None, args.wait, args.allow_files)
    elif args.command == "ingest" and args.source == "inbox":
        from newsflow.flows.ingest import ingest_inbox

        totals = ingest_inbox(inbox=args.dir, db=args.db, archive=args.archive, quarantine=args.quarantine,
                              batch_size=args.batch_size, entities=not args.no_entities)
        print_summary(args.db, totals)
    elif args.command == "ingest":
        from newsflow.flows import feeds

        options = dict(db=args.db, allow_private=args.allow_private, allow_networks=args.allow_network,
                       respect_robots=False if args.no_robots else None, batch_size=args.batch_size,
                       entities=not args.no_entities)
        if args.source == "feeds":
            totals = feeds.ingest_feeds(args.sources, fetch_pages=not args.no_fetch, **options)
        elif args.source == "sitemaps":
            totals = feeds.ingest_feeds(sitemaps=args.sources, **options)
        else:
            totals = feeds.ingest_feeds(pages=args.sources, **options)
        print_summary(args.db, totals)
    elif args.command == "sources":
        _sources_command(args)
    elif args.command == "watch":
        from newsflow.flows.watch import watch

        watch(args.dir, args.db, settle_s=args.settle, sweep_s=args.sweep, batch_size=args.batch_size, entities=not args.no_entities)
    elif args.command == "serve":
        from newsflow.flows.serve import serve

        serve()


def _sources_command(args) -> None:
    """`newsflow sources [add|remove]`: list the sources' health, discover and subscribe, or unsubscribe."""
    from newsflow.flows.report import print_sources, print_summary

    if args.action == "add":
        from newsflow.flows.sources import add_sources

        result = add_sources(args.sites, db=args.db, allow_private=args.allow_private, allow_networks=args.allow_network,
                             respect_robots=False if args.no_robots else None, poll=not args.no_poll,
                             batch_size=args.batch_size, entities=not args.no_entities)
        for url, (kind, detail, found_by) in result["found"].items():
            print(f"found {kind} ({detail}, {found_by.replace('_', ' ')}): {url}")
        for problem in result["problems"]:
            print(f"newsflow: {problem}", file=sys.stderr)
        if "totals" in result:
            print_summary(args.db, result["totals"])
        print_sources(args.db)
    elif args.action == "remove":
        from newsflow.storage.db import connection
        from newsflow.storage.sources import unsubscribe

        with connection(args.db) as con:
            print(f"unsubscribed: {unsubscribe(con, args.urls)} source(s)")
    else:
        print_sources(args.db)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newsflow` command."""
    args = build_parser().parse_args(argv)
    # Notices such as "waiting for the database" read like the command's other lines (Prefect, once started, formats
    # its own; basicConfig leaves a configured root logger alone).
    logging.basicConfig(format="newsflow: %(message)s")
    if getattr(args, "data_path", None):  # read when a lake is created (storage.lake.default_data_path)
        os.environ["NEWSFLOW_DATA_PATH"] = args.data_path
    if getattr(args, "dask_address", None):  # the flows read it from their settings (NEWSFLOW_<FIELD>)
        os.environ["NEWSFLOW_DASK_ADDRESS"] = args.dask_address
    if not args.verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # the local cluster's start and stop, each worker
        from newsflow.extractors.html import quiet_extractor_logs

        quiet_extractor_logs()
    # No network but the feeds asked for: Prefect's telemetry would only log a failure.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Should Prefect start its own temporary server after all (flows called from Python, api.shared_api): ~10 s on an
    # idle machine; its 20 s default fails on a busy one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    try:
        polls = args.command in ("ingest", "watch") or (args.command == "sources" and args.action == "add")
        if polls or args.command == "import" or (args.command == "sources" and args.action == "remove"):
            from newsflow.storage.db import check_database  # a bad --db said in one line now, not as a traceback

            check_database(args.db, write=True)
            if args.command != "import":
                _check_folders(args)  # before the Prefect server starts: a bad folder fails at once
        with ExitStack() as stack:
            if polls:
                from newsflow.flows.api import command_api

                stack.enter_context(command_api(show_output=args.verbose))  # one Prefect API, workers included
            run_command(args)
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"newsflow: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from newsflow.flows.api import ServerFailed
        from newsflow.storage.db import DatabaseLocked, DatabaseUnusable
        from newsflow.storage.readonly import QueryRefused, QueryTimedOut

        from newsflow.storage.extensions import ExtensionMissing
        from newsflow.storage.lake import LakeUnusable
        from newsflow.storage.transfer import ImportRefused

        if isinstance(exc, (DatabaseLocked, DatabaseUnusable, QueryRefused, ServerFailed, ImportRefused, ExtensionMissing, LakeUnusable)):
            print(f"newsflow: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, QueryTimedOut):
            print(f"newsflow: {exc} (--timeout SECONDS gives it longer, 0 no limit)", file=sys.stderr)
            return 1
        import duckdb

        from newsflow.flows.interrupts import caused_by_ctrl_c
        from newsflow.storage.archive import FolderNotWritable, NotMoved

        if caused_by_ctrl_c(exc):  # Prefect's ValueError from an interrupted task start
            return 130
        if isinstance(exc, (FolderNotWritable, NotMoved)):  # a folder refuses files: an error, not a bad argument
            print(f"newsflow: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, duckdb.Error):
            print(f"newsflow: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        if "Failed to reach API" in str(exc):  # Prefect's RuntimeError when the configured server is down
            print(f"newsflow: {str(exc).strip()}: is that Prefect server running? (or unset PREFECT_API_URL "
                  "to run on a temporary one)", file=sys.stderr)
            return 1
        raise
    return 0


def run() -> None:
    """The console script."""
    from newsflow.flows.interrupts import deliver_lost_ctrl_c

    deliver_lost_ctrl_c()
    try:
        code = main()
    except BrokenPipeError:  # the reader stopped early (`newsflow sql ... | head`): no traceback for that
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is still buffered goes nowhere
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    run()
