"""URLs -> responses: one polite async httpx client per run.

The client lives on its own event-loop thread so that synchronous stages (and Prefect
tasks on worker threads) can hand it a batch and wait, while the next batch is being
extracted: fetching overlaps with processing without an async flow.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from schemas.config import Http
from schemas.records import URL_STATUS_OF_FETCH, Fetch, FetchOutcome, Page, UrlOutcome, UrlStatus

HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_MAX_BYTES = 500_000
ROBOTS_AGENT = "hkai"
# A client that lives for days (`hkai serve`) reads robots.txt again: RFC 9309 2.4 asks
# for no more than 24 hours of caching. One that could not be read is tried again sooner,
# or a passing outage would keep the site off limits for a day.
ROBOTS_TTL_S = 86_400.0
ROBOTS_RETRY_S = 300.0


@dataclass
class Request:
    """One URL to get. `trusted` requests (configured sources) may reach any address;
    discovered links may not reach private networks unless on the source's own host."""

    url: str
    source: str
    trusted: bool = False
    source_host: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    check_robots: bool = True


@dataclass
class Response:
    """What came back: always a `fetch` record; a body only on success (2xx)."""

    request: Request
    fetch: Fetch
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.body is not None

    @property
    def not_modified(self) -> bool:
        return self.fetch.status_code == 304

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()


class FetchError(Exception):
    """A fetch that failed for a reason worth recording: its outcome and one readable line."""

    def __init__(self, outcome: FetchOutcome, message: str):
        super().__init__(message)
        self.outcome = outcome


ArchiveHook = Callable[[Response], None]
_REDIRECTS = (301, 302, 303, 307, 308)


def _outcome_of_status(status: int) -> FetchOutcome:
    if 200 <= status < 300:
        return FetchOutcome.OK
    if status == 304:
        return FetchOutcome.NOT_MODIFIED
    if status in (404, 410):
        return FetchOutcome.GONE
    return FetchOutcome.HTTP_ERROR  # a redirect is only an intermediate hop (_follow)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def is_public_address(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


class _HostGate:
    """Per-host politeness: at most N requests at once, and a minimum gap between the
    moments requests to the host go on the wire."""

    def __init__(self, concurrency: int, delay_s: float):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.delay_s = delay_s
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        if self.delay_s <= 0:
            return
        async with self.lock:  # FIFO: one waiter at a time, each re-checking after its sleep
            while (wait := self.next_start - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            self.next_start = time.monotonic() + self.delay_s

    async def trace(self, event: str, info: dict) -> None:
        """httpcore's trace hook. A request can reach the wire later than its turn (a new
        connection, a busy event loop): the next one's gap counts from when it was sent."""
        if self.delay_s > 0 and event.endswith("send_request_headers.started"):
            self.next_start = max(self.next_start, time.monotonic() + self.delay_s)


class Fetcher:
    """The run's HTTP client. Use as a context manager; `fetch_many` is thread-safe."""

    def __init__(self, http: Http, archive: ArchiveHook | None = None):
        self.http = http
        self.archive = archive
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hkai-fetch", daemon=True)
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._hosts: dict[str, _HostGate] = {}
        self._robots: dict[str, tuple[float, asyncio.Future]] = {}  # origin -> (loaded at, parser)

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> "Fetcher":
        self._thread.start()
        self._run(self._start())
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    async def _start(self) -> None:
        timeout = httpx.Timeout(self.http.timeout_s, connect=min(self.http.timeout_s, 10.0))
        limits = httpx.Limits(max_connections=self.http.concurrency, max_keepalive_connections=self.http.concurrency)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            limits=limits,
            follow_redirects=False,  # followed by hand: each hop is checked (robots, address)
            headers={"User-Agent": self.http.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
        )
        self._global = asyncio.Semaphore(self.http.concurrency)

    async def _stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # -- public ----------------------------------------------------------------------
    def fetch_many(self, requests: Iterable[Request]) -> list[Response]:
        """Fetch all, concurrently within the limits; results in request order."""
        requests = list(requests)
        if not requests:
            return []
        return self._run(self._fetch_all(requests))

    def fetch(self, request: Request) -> Response:
        return self.fetch_many([request])[0]

    async def _fetch_all(self, requests: list[Request]) -> list[Response]:
        return list(await asyncio.gather(*(self._fetch_one(r) for r in requests)))

    # -- one URL ---------------------------------------------------------------------
    async def _fetch_one(self, request: Request) -> Response:
        started = _now()
        try:
            return await self._follow(request, started)
        except TimeoutError:
            outcome, error = FetchOutcome.TIMEOUT, f"timed out after {self.http.timeout_s * 2:.0f} s"
        except FetchError as exc:
            outcome, error = exc.outcome, str(exc)
        except httpx.TimeoutException as exc:
            outcome, error = FetchOutcome.TIMEOUT, f"timeout ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            outcome = FetchOutcome.NETWORK_ERROR
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except (OSError, ValueError, UnicodeError) as exc:
            outcome, error = FetchOutcome.NETWORK_ERROR, f"{type(exc).__name__}: {exc}"
        return Response(request, Fetch(url=request.url, source=request.source, outcome=outcome, error=error[:500],
                                       fetched_at=started))

    async def _follow(self, request: Request, started: datetime) -> Response:
        url = request.url
        for hop in range(self.http.max_redirects + 1):
            await self._check_allowed(request, url)
            response = await self._get(request, url, started)
            status = response.fetch.status_code or 0
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                url = urljoin(url, location)
                if urlsplit(url).scheme not in ("http", "https"):
                    raise FetchError(FetchOutcome.REFUSED, f"redirect to unsupported scheme: {url[:200]}")
                continue
            return response
        raise FetchError(FetchOutcome.TOO_MANY_REDIRECTS, f"too many redirects (more than {self.http.max_redirects})")

    async def _check_allowed(self, request: Request, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            raise FetchError(FetchOutcome.REFUSED, f"no host in URL {url[:200]}")
        if not request.trusted and host != request.source_host and host not in self.http.allow_private_hosts:
            await self._refuse_private(host, urlsplit(url).port or (443 if url.startswith("https") else 80))
        if request.check_robots and not await self._robots_allow(url):
            raise FetchError(FetchOutcome.ROBOTS_DISALLOWED, "disallowed by robots.txt")

    async def _refuse_private(self, host: str, port: int) -> None:
        try:
            infos = await asyncio.wait_for(self._loop.getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                           self.http.timeout_s)
        except TimeoutError:
            raise FetchError(FetchOutcome.NETWORK_ERROR, f"cannot resolve {host}: DNS timed out") from None
        except socket.gaierror as exc:
            raise FetchError(FetchOutcome.NETWORK_ERROR, f"cannot resolve {host}: {exc.strerror or exc}") from None
        for *_, sockaddr in infos:
            if not is_public_address(sockaddr[0]):
                raise FetchError(FetchOutcome.REFUSED, f"refused: {host} resolves to non-public address {sockaddr[0]}")

    async def _get(self, request: Request, url: str, started: datetime) -> Response:
        host = (urlsplit(url).hostname or "").lower()
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = _HostGate(self.http.per_host_concurrency, self.http.per_host_delay_s)
        headers = {}
        if url == request.url:
            if request.etag:
                headers["If-None-Match"] = request.etag
            if request.last_modified:
                headers["If-Modified-Since"] = request.last_modified
        assert self._client is not None and self._global is not None
        async with self._global, gate.semaphore:
            await gate.wait_turn()
            req = self._client.build_request("GET", url, headers=headers, extensions={"trace": gate.trace})
            # A hard deadline for each exchange, a server that trickles one byte a second
            # never trips the per-read timeout. It starts once this request holds its
            # slots: time queued behind the host's limit and delay is not the server's.
            async with asyncio.timeout(self.http.timeout_s * 2):
                resp = await self._client.send(req, stream=True)
                try:
                    body = await self._read_capped(resp)
                finally:
                    await resp.aclose()
        fetch = Fetch(
            url=request.url,
            source=request.source,
            outcome=_outcome_of_status(resp.status_code),
            status_code=resp.status_code,
            bytes=len(body),
            fetched_at=started,
            final_url=url if url != request.url else None,
            content_type=resp.headers.get("content-type"),
        )
        out = Response(request, fetch, headers={k.lower(): v for k, v in resp.headers.items()},
                       request_headers=dict(req.headers))
        if 200 <= resp.status_code < 300:
            out.body = body
            if self.archive is not None:
                self.archive(out)
        elif fetch.outcome is not FetchOutcome.NOT_MODIFIED and not (
                resp.status_code in _REDIRECTS and "location" in out.headers):  # a hop: _follow goes on
            fetch.error = f"HTTP {resp.status_code} {resp.reason_phrase}".strip()
        return out

    async def _read_capped(self, resp: httpx.Response) -> bytes:
        """Read the (decoded) body, aborting past max_bytes: bounds gzip bombs too."""
        cap = self.http.max_bytes
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(FetchOutcome.TOO_LARGE, f"body too large: Content-Length {declared} > max_bytes {cap}")
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(FetchOutcome.TOO_LARGE, f"body too large: over max_bytes {cap}")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- robots.txt ------------------------------------------------------------------
    async def _robots_allow(self, url: str) -> bool:
        """False when robots.txt disallows `url`; FetchError when it cannot be read."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(origin)
        if cached is not None and cached[1].done():
            ttl_s = ROBOTS_RETRY_S if isinstance(cached[1].result(), str) else ROBOTS_TTL_S
            if time.monotonic() - cached[0] > ttl_s:
                cached = None
        if cached is None:
            cached = self._robots[origin] = (time.monotonic(), asyncio.ensure_future(self._load_robots(origin)))
        parser = await cached[1]
        if isinstance(parser, str):
            # RFC 9309 2.3.1.4: an unreachable robots.txt means assume complete disallow.
            # Reported as a failure (retried with backoff), not as a robots refusal.
            raise FetchError(FetchOutcome.NETWORK_ERROR, f"robots.txt unreachable, site not crawled: {parser}")
        return parser.can_fetch(ROBOTS_AGENT, url)

    async def _load_robots(self, origin: str) -> RobotFileParser | str:
        """robots.txt once per host (ROBOTS_TTL_S; RFC 9309: a 4xx means no rules; a 5xx or a
        network error means the whole site is off limits, returned as the reason)."""
        parser = RobotFileParser()
        assert self._client is not None
        try:
            status, body = await asyncio.wait_for(self._read_robots(origin), 2 * self.http.timeout_s)
        except (httpx.HTTPError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if 200 <= status < 300:
            parser.parse(body.decode("utf-8", "replace").splitlines())
        elif 400 <= status < 500:
            parser.allow_all = True
        else:
            return f"HTTP {status} for /robots.txt"
        return parser

    async def _read_robots(self, origin: str) -> tuple[int, bytes]:
        """Status and the first ROBOTS_MAX_BYTES of /robots.txt (RFC 9309 2.5: the rest may
        be ignored), so a huge or endless robots.txt costs no more than that."""
        assert self._client is not None
        async with self._client.stream("GET", origin + "/robots.txt", follow_redirects=True) as resp:
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= ROBOTS_MAX_BYTES:
                    break
            return resp.status_code, b"".join(chunks)[:ROBOTS_MAX_BYTES]


# -- bodies -> text ----------------------------------------------------------------------

def is_html(response: Response) -> bool:
    """HTML or XHTML by Content-Type, or by sniffing when the server did not say."""
    ctype = response.content_type
    if ctype:
        return ctype in HTML_TYPES
    head = (response.body or b"")[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


_CHARSET_ALIASES = {
    # Supersets that decode everything their common labels are used for in practice.
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs",
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        import codecs
        return codecs.lookup(label).name
    except LookupError:
        return None


def _declared_charset(body: bytes) -> str | None:
    import re
    head = body[:4096]
    match = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-:.]+)", head, re.I)
    if match:
        return match.group(1).decode("ascii", "ignore")
    match = re.search(rb"<\?xml[^>]+encoding\s*=\s*[\"']([A-Za-z0-9_\-.]+)", head, re.I)
    return match.group(1).decode("ascii", "ignore") if match else None


def decode_html(body: bytes, content_type: str | None) -> str:
    """Charset from the header, then the document, then detection."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    msg = Message()
    msg["content-type"] = content_type or ""
    for label in (msg.get_param("charset"), _declared_charset(body)):
        codec = _codec(label if isinstance(label, str) else None)
        if codec:
            try:
                return body.decode(codec)
            except UnicodeDecodeError:
                continue  # the label lies; fall through to detection
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    codec = _codec(best.encoding) if best else None
    return body.decode(codec or "utf-8", "replace")


# -- article pages -------------------------------------------------------------------

@dataclass
class FetchedBatch:
    """A batch of article URLs after fetching: the HTML pages, every attempt, and what
    became of each URL that did not yield a page."""

    pages: list[Page] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    outcomes: list[UrlOutcome] = field(default_factory=list)


def fetch_pages(fetcher: Fetcher, candidates: list, source_urls: dict[str, str]) -> FetchedBatch:
    """Fetch candidate article URLs; keep HTML, record and skip everything else."""
    requests = [
        Request(url=c.url, source=c.source, source_host=(urlsplit(source_urls.get(c.source, "")).hostname or "").lower())
        for c in candidates
    ]
    batch = FetchedBatch()
    for response in fetcher.fetch_many(requests):
        fetch, url, source = response.fetch, response.request.url, response.request.source
        batch.fetches.append(fetch)
        if response.ok and not response.body:
            fetch.outcome, fetch.error = FetchOutcome.EMPTY, "empty body: skipped"
        elif response.ok and not is_html(response):
            fetch.outcome = FetchOutcome.NOT_HTML
            fetch.error = f"not HTML ({response.content_type or 'unknown type'}): skipped"
        elif response.ok:
            batch.pages.append(Page(
                url=url, final_url=fetch.final_url or url, source=source, fetched_at=fetch.fetched_at,
                html=decode_html(response.body or b"", response.headers.get("content-type")),
                status_code=fetch.status_code or 200,
            ))
            continue
        status = URL_STATUS_OF_FETCH.get(fetch.outcome, UrlStatus.FAILED)
        batch.outcomes.append(UrlOutcome(url=url, source=source, status=status, error=fetch.error))
    return batch
