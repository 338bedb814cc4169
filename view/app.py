"""`newsflow view`: a read-only web view of what landed. Each page opens the database read-only for one
request (storage.readonly), so writers get the file back between pages; the SQL lives in storage.view_queries."""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from newsflow.storage import view_queries as q
from newsflow.storage.db import DatabaseLocked
from newsflow.storage.readonly import read_only_connection
from newsflow.view.charts import bar_chart
from newsflow.view.text import highlighted, original_lines

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BUSY_RETRY_S = 5  # how soon the "being written" page reloads itself


class Reader:
    """Runs one page's query on a read-only connection opened for that request alone."""

    def __init__(self, db: str, wait_s: float) -> None:
        self.db, self.wait_s = db, wait_s
        self._index = None
        self._index_lock = threading.Lock()  # one search refreshes the in-memory index at a time

    def read(self, query, *args, **kwargs):
        with read_only_connection(self.db, wait_s=self.wait_s) as con:
            return query(con, *args, **kwargs)

    def search(self, text: str, limit: int) -> list[str]:
        """Article ids ranked by BM25, the view's in-memory index brought up to date first."""
        with self._index_lock:
            if self._index is None:
                self._index = q.memory_index()
            return q.ranked_ids(self._index, self.db, text, limit, self.wait_s)


def _page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {"db": request.app.state.reader.db, **context},
                                      status_code=status_code)


def _arg(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


def overview(request: Request) -> HTMLResponse:
    data = request.app.state.reader.read(q.overview)
    return _page(request, "overview.html", data=data,
                 per_day_chart=bar_chart([(str(r["day"]), r["n"]) for r in data["per_day"]]),
                 per_site_chart=bar_chart([(r["site"], r["n"]) for r in data["per_site"]]),
                 status_chart=bar_chart([(r["status"], r["n"]) for r in data["by_status"]]))


def articles(request: Request) -> HTMLResponse:
    reader = request.app.state.reader
    search = _arg(request, "q")
    try:
        day = date.fromisoformat(_arg(request, "date")) if _arg(request, "date") else None
        offset = max(0, int(_arg(request, "offset") or 0))
    except ValueError:
        return _page(request, "message.html", 400, title="Bad filter", message="date is YYYY-MM-DD, offset a number")
    ids = reader.search(search, q.PAGE_SIZE) if search else None
    rows, filters = reader.read(q.articles_page, site=_arg(request, "site"), language=_arg(request, "language"), day=day,
                                entity_id=_arg(request, "entity"), ids=ids, offset=0 if ids is not None else offset)
    return _page(request, "articles.html", rows=rows, filters=filters, params=dict(request.query_params),
                 search=search, offset=offset, page_size=q.PAGE_SIZE)


def article(request: Request) -> HTMLResponse:
    found = request.app.state.reader.read(q.article, request.path_params["article_id"])
    if found is None:
        return _page(request, "message.html", 404, title="No such article", message=request.path_params["article_id"])
    return _page(request, "article.html", a=found, segments=highlighted(found["text"], found["mentions"]),
                 lines=original_lines(found["text"], found["removed"], found["text_line_nos"]),
                 hide_removed=request.query_params.get("removed") == "hide")


def entity(request: Request) -> HTMLResponse:
    found = request.app.state.reader.read(q.entity_page, request.path_params["entity_id"])
    if found is None:
        return _page(request, "message.html", 404, title="No such entity", message=request.path_params["entity_id"])
    rows = found["articles"]
    return _page(request, "entity.html", e=found, rows=rows,
                 per_day_chart=bar_chart([(str(r["day"]), r["n"]) for r in found["per_day"]]))


def quarantine(request: Request) -> HTMLResponse:
    try:
        offset = max(0, int(_arg(request, "offset") or 0))
    except ValueError:
        offset = 0
    rows = request.app.state.reader.read(q.quarantine, offset)
    return _page(request, "quarantine.html", rows=rows, offset=offset, page_size=q.PAGE_SIZE)


def original(request: Request) -> Response:
    """A rejected input's kept original, as plain text (never rendered as HTML: it is untrusted)."""
    found = request.app.state.reader.read(q.rejected_original, request.path_params["document_id"])
    if found is None:
        return _page(request, "message.html", 404, title="No such rejected document", message=request.path_params["document_id"])
    stored_path, content = found
    if content is None and stored_path and Path(stored_path).is_file():
        content = Path(stored_path).read_bytes()
    if content is None:
        return _page(request, "message.html", 404, title="Original not kept", message=stored_path or "no stored path")
    return Response(content, media_type="text/plain; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"})


async def busy(request: Request, exc: Exception) -> HTMLResponse:
    """A writer held the database for longer than the wait: say so and reload shortly."""
    response = _page(request, "message.html", 503, title="Data is being written",
                     message=f"A batch is being written to {request.app.state.reader.db}; this page reloads in "
                             f"{BUSY_RETRY_S} s.", refresh=BUSY_RETRY_S)
    response.headers["Retry-After"] = str(BUSY_RETRY_S)
    return response


async def not_ingested(request: Request, exc: Exception) -> HTMLResponse:
    return _page(request, "message.html", 404, title="Nothing ingested yet", message=str(exc))


def create_app(db: str, *, wait_s: float = 5.0) -> Starlette:
    """The view's app over `db`; GET routes only, each a read-only read."""
    routes = [
        Route("/", overview),
        Route("/articles", articles),
        Route("/articles/{article_id}", article),
        Route("/entities/{entity_id}", entity),
        Route("/quarantine", quarantine),
        Route("/quarantine/{document_id}/original", original),
    ]
    app = Starlette(routes=routes, exception_handlers={DatabaseLocked: busy, FileNotFoundError: not_ingested})
    app.state.reader = Reader(db, wait_s)
    return app


def serve(db: str, *, host: str = "127.0.0.1", port: int = 8765, wait_s: float = 5.0) -> None:
    """Serve the view until interrupted."""
    import uvicorn

    print(f"newsflow view: http://{host}:{port}/  (read-only, {db})", flush=True)
    uvicorn.run(create_app(db, wait_s=wait_s), host=host, port=port, log_level="warning")
