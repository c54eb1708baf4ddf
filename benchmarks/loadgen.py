"""The load generator: a small asyncio HTTP/1.1 client, in open and closed loop.

- **Open loop** (`open_loop`): request *i* is due at `t0 + i / rate` whatever happened to the
  earlier ones. Latency counts from the due time, not from when the client got round to sending,
  so a saturated server (or client) shows up as latency instead of silently lowering the load
  (no coordinated omission).
- **Closed loop** (`closed_loop`): C clients, each sending its next request as soon as the
  previous one is answered, for a duration or a number of requests. The rate is whatever the
  server sustains; latency counts from the send.

One event loop in one thread, raw requests prepared once, responses read by Content-Length:
about 0.1 ms of client CPU per request, which the scenarios measure and report (CpuMeter).
Connections are kept alive when the server allows it (gunicorn's gthread workers); sync workers
close every connection after the response, so every request then pays a TCP connect.
"""

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.stack import HOST_HEADER

# Anything that means "no usable response": refused or reset connections, timeouts, a response
# cut short or malformed.
TRANSPORT_ERRORS = (OSError, EOFError, asyncio.LimitOverrunError, ValueError)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: dict | None = None
    headers: tuple[tuple[str, str], ...] = ()
    kind: str = ""  # which request type this is, for mixed loads
    raw_keep_alive: bytes = field(init=False, repr=False, compare=False)
    raw_close: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        body = json.dumps(self.body).encode() if self.body is not None else b""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {HOST_HEADER}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head = "\r\n".join(lines)
        object.__setattr__(self, "raw_keep_alive", f"{head}\r\n\r\n".encode() + body)
        object.__setattr__(self, "raw_close", f"{head}\r\nConnection: close\r\n\r\n".encode() + body)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: str  # the HTTP status, or the exception class for a request that got no response
    latency: float  # seconds: from the due time (open loop) or the send (closed loop) to the response
    start_lag: float  # seconds between the due time and the actual send (open loop only)
    finished_at: float
    kind: str = ""


@dataclass
class Run:
    t0: float
    outcomes: list[Outcome]
    client_cpu_s: float  # CPU time this process used during the run


MakeRequest = Callable[[int], Request]
IsSuccess = Callable[[int, bytes], bool]


class Connection:
    """One HTTP/1.1 connection, opened on first use and again whenever the server closed it."""

    def __init__(self, host: str, port: int, keep_alive: bool):
        self.host, self.port, self.keep_alive = host, port, keep_alive
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @property
    def is_open(self) -> bool:
        return self.writer is not None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, request: Request) -> tuple[int, bytes]:
        reused = self.writer is not None
        if not reused:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            return await self._exchange(request)
        except (ConnectionError, EOFError):
            self.close()
            if not reused:
                raise
        # The server closed the idle kept-alive connection as the request went out: once more on a
        # fresh one, as every HTTP client does. Only GETs are sent on kept-alive connections here.
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(request)

    async def _exchange(self, request: Request) -> tuple[int, bytes]:
        self.writer.write(request.raw_keep_alive if self.keep_alive else request.raw_close)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(None, 2)[1])
        will_close = lines[0].startswith(b"HTTP/1.0")
        length, chunked = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                will_close = value.strip().lower() == b"close"
        if chunked:
            body = await self._read_chunked()
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body, will_close = await self.reader.read(), True
        if will_close or not self.keep_alive:
            self.close()
        return status, body

    async def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent here
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


class LoadGenerator:
    def __init__(self, port: int, timeout: float, *, keep_alive: bool = True, host: str = "127.0.0.1"):
        self.host, self.port, self.timeout, self.keep_alive = host, port, timeout, keep_alive

    def _connection(self) -> Connection:
        return Connection(self.host, self.port, self.keep_alive)

    async def _send(self, conn: Connection, request: Request, is_success: IsSuccess):
        """(ok, status label) of one request; the connection is closed if the request failed."""
        try:
            async with asyncio.timeout(self.timeout):
                status, body = await conn.request(request)
        except TRANSPORT_ERRORS as exc:
            conn.close()
            return False, type(exc).__name__
        return is_success(status, body), str(status)

    # --- open loop ------------------------------------------------------------------------------------
    def open_loop(
        self, make_request: MakeRequest, is_success: IsSuccess, rate: float, duration: float
    ) -> Run:
        return self._timed(self._open_loop(make_request, is_success, rate, duration))

    async def _open_loop(self, make_request, is_success, rate, duration) -> tuple[float, list[Outcome]]:
        total = max(1, round(rate * duration))
        idle: list[Connection] = []  # kept-alive connections waiting for the next due request

        async def fire(index: int, due: float) -> Outcome:
            conn = idle.pop() if idle else self._connection()
            request = make_request(index)
            started = time.perf_counter()
            ok, label = await self._send(conn, request, is_success)
            finished = time.perf_counter()
            if conn.is_open:
                idle.append(conn)
            return Outcome(ok, label, finished - due, started - due, finished, request.kind)

        tasks = []
        t0 = time.perf_counter()
        for index in range(total):
            due = t0 + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(index, due)))
        outcomes = await asyncio.gather(*tasks)
        for conn in idle:
            conn.close()
        return t0, outcomes

    # --- closed loop ----------------------------------------------------------------------------------
    def closed_loop(
        self,
        make_request: MakeRequest,
        is_success: IsSuccess,
        clients: int,
        *,
        duration: float | None = None,
        total: int | None = None,
    ) -> Run:
        """`clients` connections, each sending back to back until `duration` seconds have passed
        or `total` requests have been sent, whichever comes first."""
        return self._timed(self._closed_loop(make_request, is_success, clients, duration, total))

    async def _closed_loop(self, make_request, is_success, clients, duration, total):
        counter = itertools.count()
        outcomes: list[Outcome] = []
        t0 = time.perf_counter()
        deadline = t0 + duration if duration is not None else float("inf")

        async def client() -> None:
            conn = self._connection()
            while time.perf_counter() < deadline:
                index = next(counter)
                if total is not None and index >= total:
                    break
                request = make_request(index)
                started = time.perf_counter()
                ok, label = await self._send(conn, request, is_success)
                finished = time.perf_counter()
                outcomes.append(Outcome(ok, label, finished - started, 0.0, finished, request.kind))
            conn.close()

        await asyncio.gather(*(client() for _ in range(clients)))
        return t0, outcomes

    def warm_up(self, make_request: MakeRequest, is_success: IsSuccess, count: int) -> list[Outcome]:
        """`count` requests at once, so that every gunicorn worker has loaded and connected."""
        if count <= 0:
            return []
        return self.closed_loop(make_request, is_success, count, total=count).outcomes

    def _timed(self, coroutine) -> Run:
        cpu = time.process_time()
        t0, outcomes = asyncio.run(coroutine)
        return Run(t0, list(outcomes), time.process_time() - cpu)
