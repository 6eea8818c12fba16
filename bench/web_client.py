"""A small HTTP client that loads Dash pages the way the browser does, for load and soak tests.

    client = DashClient("http://127.0.0.1:8050")
    load = client.load_page("/actions?view=at-risk")      # HTML, layout, dependencies, callbacks
    load.version, load.props["list-count"], [r.name for r in load.requests]
    client.grid_rows(load, start=25)                      # the next block of the Actions grid
    client.lookup_client("12346")                         # navbar search, then in-app navigation

One page load replays what dash-renderer sends (captured once from Chromium's network log):

1. ``GET <page>``, ``GET /_dash-layout``, ``GET /_dash-dependencies``;
2. ``POST /_dash-update-component`` for ``filters.data`` (input ``url.search``), then for
   ``_pages_content.children`` + ``_pages_store.data`` (inputs ``_pages_location.pathname/search``);
3. the callbacks the new content triggers, chosen by the renderer's rule: every server-side callback
   with an input inside the new content and all inputs on the page, unless it has
   ``prevent_initial_call`` *and* an output inside the new content (so the navbar search and graph
   click callbacks fire and answer 204; the menu toggle does not);
4. for an AG Grid with the infinite row model, the grid's first ``getRowsRequest`` (block size and
   sort taken from the grid's props).

Callback bodies are built from ``/_dash-dependencies`` (output strings with their ``@hash`` included),
so they follow code changes. Every response is checked: status (200; 204 only where the callback may
raise PreventUpdate), JSON, the page content holds ``page-version`` and the page's own ids, and no
"no data" / "not found" / "source unavailable" component. A failed check raises :class:`CheckError`
after recording the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = ["CheckError", "Request", "PageLoad", "DashClient", "PAGES", "page_path", "walk_components"]

UPDATE = "/_dash-update-component"
ERROR_IDS = ("empty-state", "not-found", "source-banner")  # page content that means "no data to show"

# name -> (path template, ids the rendered content must hold)
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "executive": ("/", ("page-version", "at-risk-alert", "pareto-graph", "segment-share-graph", "monthly-graph")),
    "segments": ("/segments?segment=Champions", ("page-version", "segment-radar", "segment-comparison-graph")),
    "actions": ("/actions?view=at-risk", ("page-version", "actions-scope", "at-risk-grid", "list-count")),
    "client": ("/client/{customer_id}", ("page-version", "client-id", "client-history")),
}


class CheckError(AssertionError):
    """A response that is not what the browser needs (status, JSON, ids)."""


@dataclass
class Request:
    """One HTTP exchange: what, how long, how big, and whether it passed its checks."""

    name: str  # html, layout, dependencies, cb:filters, cb:content, cb:<output>, cb:grid-rows, cb:search
    status: int
    seconds: float
    bytes: int
    ok: bool = True
    error: str | None = None


@dataclass
class PageLoad:
    """The outcome of one page load: its requests and the rendered content (props by component id)."""

    path: str
    requests: list[Request] = field(default_factory=list)
    content: Any = None
    props: dict[str, dict] = field(default_factory=dict)
    grid_response: dict | None = None

    @property
    def version(self) -> str | None:
        """The snapshot version the page pinned (``dcc.Store(id="page-version")``)."""
        return self.props.get("page-version", {}).get("data")

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.requests)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.requests)


def page_path(name: str, customer_id: str = "12346") -> str:
    """The path of a page of :data:`PAGES` (Client 360 for ``customer_id``)."""
    return PAGES[name][0].format(customer_id=customer_id)


def walk_components(node: Any) -> Iterator[dict]:
    """Every component (``{"type", "namespace", "props"}``) in a layout tree, depth first."""
    if isinstance(node, list):
        for item in node:
            yield from walk_components(item)
    elif isinstance(node, dict):
        if "props" in node and "type" in node and isinstance(node["props"], dict):
            yield node
            for value in node["props"].values():
                yield from walk_components(value)
        else:
            for value in node.values():
                yield from walk_components(value)


def _ids(tree: Any) -> dict[str, dict]:
    return {c["props"]["id"]: c["props"] for c in walk_components(tree) if isinstance(c["props"].get("id"), str)}


def parse_outputs(output: str) -> list[tuple[str, str]]:
    """``"a.b"`` or ``"..a.b...c.d.."`` -> ``[(id, property), ...]`` (property may carry ``@hash``)."""
    parts = output[2:-2].split("...") if output.startswith("..") and output.endswith("..") else [output]
    return [tuple(part.split(".", 1)) for part in parts]  # type: ignore[misc]


class DashClient:
    """One simulated browser tab: a keep-alive HTTP session plus the page's client-side state."""

    def __init__(self, base_url: str, timeout: float = 30.0, session: requests.Session | None = None,
                 keep_alive: bool = True) -> None:
        """``keep_alive=False``: every request on a new connection (``Connection: close``), so the requests of
        one page load land on any gunicorn worker, like a browser's parallel connections."""
        self.base = base_url.rstrip("/")
        self.prefix = urlsplit(self.base).path.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["Content-Type"] = "application/json"
        if not keep_alive:
            self.session.headers["Connection"] = "close"
        self.deps: list[dict] = []
        self.shell: dict[str, dict] = {}  # props of the shell components (url, filters, _pages_location...)
        self.current: PageLoad | None = None  # the page load in progress (its requests so far, after an error)

    # -- HTTP ---------------------------------------------------------------------------------------------------
    def _exchange(self, record: list[Request], name: str, method: str, path: str, body: Any = None,
                  allow: Sequence[int] = (200,)) -> requests.Response:
        start = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=self.timeout,
                                            data=None if body is None else json.dumps(body))
            content = response.content
        except requests.RequestException as exc:
            record.append(Request(name, 0, time.perf_counter() - start, 0, False, f"{type(exc).__name__}: {exc}"))
            raise CheckError(f"{name}: {type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - start
        entry = Request(name, response.status_code, seconds, len(content))
        record.append(entry)
        if response.status_code not in allow:
            entry.ok, entry.error = False, f"HTTP {response.status_code}"
            raise CheckError(f"{name} {path}: HTTP {response.status_code}: {content[:300]!r}")
        return response

    def _json(self, record: list[Request], response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            record[-1].ok, record[-1].error = False, "not JSON"
            raise CheckError(f"{record[-1].name}: response is not JSON: {response.content[:200]!r}") from exc

    # -- callbacks ----------------------------------------------------------------------------------------------
    def _dep(self, output_id: str, output_prop: str) -> dict:
        for dep in self.deps:
            if (output_id, output_prop) in [(i, p.split("@")[0]) for i, p in parse_outputs(dep["output"])]:
                return dep
        raise CheckError(f"no callback with output {output_id}.{output_prop} in /_dash-dependencies")

    def _value(self, props: Mapping[str, dict], item: Mapping) -> dict:
        entry = {"id": item["id"], "property": item["property"]}
        component = props.get(item["id"], {})
        if item["property"] in component:
            entry["value"] = component[item["property"]]
        return entry

    def callback_body(self, dep: Mapping, props: Mapping[str, dict], changed: Sequence[str] | None = None) -> dict:
        """The request body dash-renderer sends for ``dep``, values taken from ``props`` (absent = undefined)."""
        outputs = [{"id": i, "property": p} for i, p in parse_outputs(dep["output"])]
        inputs = [self._value(props, item) for item in dep["inputs"]]
        changed = list(changed) if changed is not None else [f"{i['id']}.{i['property']}" for i in dep["inputs"]]
        body = {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": inputs, "changedPropIds": changed, "parsedChangedPropsIds": changed}
        if dep.get("state"):
            body["state"] = [self._value(props, item) for item in dep["state"]]
        return body

    def fire(self, record: list[Request], name: str, dep: Mapping, props: dict[str, dict],
             changed: Sequence[str] | None = None, allow: Sequence[int] = (200,)) -> dict | None:
        """POST one callback; apply its outputs to ``props``; the response (None for 204)."""
        response = self._exchange(record, name, "POST", UPDATE, self.callback_body(dep, props, changed), allow)
        if response.status_code == 204:
            return None
        answer = self._json(record, response)
        if not isinstance(answer, dict) or not isinstance(answer.get("response"), dict):
            record[-1].ok, record[-1].error = False, "no response key"
            raise CheckError(f"{name}: unexpected callback answer {str(answer)[:200]}")
        for cid, values in answer["response"].items():
            props.setdefault(cid, {}).update(values)
        return answer["response"]

    # -- page loads -----------------------------------------------------------------------------------------------
    def load_page(self, path: str, expect: Sequence[str] = ("page-version",)) -> PageLoad:
        """A fresh browser tab on ``path``: HTML, layout, dependencies, then the callbacks of the page."""
        load = self.current = PageLoad(path)
        record = load.requests
        html = self._exchange(record, "html", "GET", path)
        if b"_dash-config" not in html.content:
            record[-1].ok, record[-1].error = False, "not a Dash page"
            raise CheckError(f"GET {path}: not a Dash index page")
        layout = self._json(record, self._exchange(record, "layout", "GET", "/_dash-layout"))
        self.shell = _ids(layout)
        if "_pages_content" not in self.shell:
            record[-1].ok, record[-1].error = False, "no _pages_content"
            raise CheckError("/_dash-layout has no _pages_content")
        self.deps = self._json(record, self._exchange(record, "dependencies", "GET", "/_dash-dependencies"))
        self.shell.setdefault("filters", {})["data"] = None  # a new tab: empty session storage
        return self._show(load, path, expect, search_changed=True)

    def _navigate(self, load: PageLoad, path: str, expect: Sequence[str]) -> PageLoad:
        self.current = load
        load.path = path
        previous = self.shell.get("url", {}).get("search", "")
        return self._show(load, path, expect, search_changed=_search(path) != previous)

    def _show(self, load: PageLoad, path: str, expect: Sequence[str], search_changed: bool) -> PageLoad:
        record, props = load.requests, self.shell
        pathname, search = self.prefix + path.split("?")[0], _search(path)
        for cid in ("url", "_pages_location"):
            props.setdefault(cid, {}).update(pathname=pathname, search=search)
        if search_changed:
            self.fire(record, "cb:filters", self._dep("filters", "data"), props, ["url.search"])
        answer = self.fire(record, "cb:content", self._dep("_pages_content", "children"), props,
                           ["_pages_location.pathname", "_pages_location.search"])
        load.content = (answer or {}).get("_pages_content", {}).get("children")
        load.props = _ids(load.content)
        self._check_content(record, load, expect)
        self._follow_up(load)
        return load

    def _check_content(self, record: list[Request], load: PageLoad, expect: Sequence[str]) -> None:
        missing = [cid for cid in expect if cid not in load.props]
        bad = [cid for cid in ERROR_IDS if cid in load.props]
        if missing or bad:
            record[-1].ok = False
            record[-1].error = f"missing {missing}" if missing else f"shows {bad}"
            raise CheckError(f"{load.path}: content {record[-1].error}")

    def _follow_up(self, load: PageLoad) -> None:
        """The callbacks the new content triggers, then the grid's first block request."""
        new = set(load.props)
        page = {**self.shell, **load.props}
        for dep in self.deps:
            if dep.get("clientside_function") or not dep["inputs"]:
                continue
            inputs = {i["id"] for i in dep["inputs"]}
            outputs = {i for i, _ in parse_outputs(dep["output"])}
            if not inputs & new or not inputs <= set(page):
                continue
            if dep.get("prevent_initial_call") and outputs & new:
                continue
            name = "cb:" + "+".join(sorted(outputs))
            self.fire(load.requests, name, dep, page, allow=(200, 204))
        for cid, props in load.props.items():
            if props.get("rowModelType") == "infinite":
                load.grid_response = self.grid_rows(load, grid_id=cid)

    def grid_rows(self, load: PageLoad, start: int = 0, end: int | None = None, sort_model: list | None = None,
                  filter_model: dict | None = None, grid_id: str = "at-risk-grid") -> dict:
        """One ``getRowsRequest`` of an infinite-model grid on ``load``'s page; the ``getRowsResponse``."""
        grid = load.props.get(grid_id)
        if grid is None:
            raise CheckError(f"{load.path}: no grid {grid_id}")
        options = grid.get("dashGridOptions", {})
        size = int(options.get("cacheBlockSize") or 100)
        if sort_model is None:
            sort_model = [{"sort": c["sort"], "type": "default", "colId": c.get("colId") or c.get("field")}
                          for c in grid.get("columnDefs", []) if isinstance(c, dict) and c.get("sort")]
        request = {"startRow": start, "endRow": start + size if end is None else end, "sortModel": sort_model,
                   "filterModel": filter_model or {}, "api": {}}
        page = {**self.shell, **load.props, grid_id: {**grid, "getRowsRequest": request}}
        answer = self.fire(load.requests, "cb:grid-rows", self._dep(grid_id, "getRowsResponse"), page,
                           [f"{grid_id}.getRowsRequest"])
        response = (answer or {}).get(grid_id, {}).get("getRowsResponse")
        if not isinstance(response, dict) or not isinstance(response.get("rowData"), list):
            load.requests[-1].ok, load.requests[-1].error = False, "no rowData"
            raise CheckError(f"{load.path}: grid answer without rowData: {str(answer)[:200]}")
        if response.get("rowCount", 0) > start and not response["rowData"]:
            load.requests[-1].ok, load.requests[-1].error = False, "empty block"
            raise CheckError(f"{load.path}: empty block at {start} of {response.get('rowCount')}")
        return response

    def lookup_client(self, customer_id: str) -> PageLoad:
        """Client 360 lookup from the navbar: the search callback answers the href, then in-app navigation."""
        if not self.deps:
            self.load_page("/")
        load = self.current = PageLoad("/client/" + customer_id)
        record = load.requests
        page = {**self.shell, "nav-search": {"value": customer_id}, "nav-search-go": {}}
        dep = next((d for d in self.deps if [i["id"] for i in d["inputs"]] == ["nav-search", "nav-search-go"]), None)
        if dep is None:
            raise CheckError("no navbar search callback in /_dash-dependencies")
        answer = self.fire(record, "cb:search", dep, page, ["nav-search.value"])
        href = (answer or {}).get("url", {})
        href = next((v for k, v in href.items() if k.startswith("href")), None)
        if not isinstance(href, str) or not href.split("?")[0].endswith("/client/" + customer_id):
            record[-1].ok, record[-1].error = False, f"href {href!r}"
            raise CheckError(f"navbar search for {customer_id} answered {href!r}")
        path = href[len(self.prefix):] if self.prefix and href.startswith(self.prefix) else href
        self._navigate(load, path, PAGES["client"][1])
        if load.props.get("client-id", {}).get("data") != customer_id:
            raise CheckError(f"Client 360 shows {load.props.get('client-id')} instead of {customer_id}")
        return load

    def close(self) -> None:
        self.session.close()


def _search(path: str) -> str:
    return "?" + path.split("?", 1)[1] if "?" in path else ""
