"""Django's WSGI application on a fixed set of threads inside the ASGI server: what a request
and its answer look like on the way through, and how many run at once."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from config.wsgi_threads import BODY_IN_MEMORY_BYTES, WsgiOnThreads


def http_scope(method: str = "GET", path: str = "/", headers=(), query: bytes = b"") -> dict:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": list(headers),
        "client": ("203.0.113.7", 50000),
        "server": ("support.example.com", 443),
    }


async def request(app, scope: dict, body_chunks=(b"",)) -> tuple[dict, list[bytes]]:
    communicator = ApplicationCommunicator(app, scope)
    chunks = list(body_chunks)
    for index, chunk in enumerate(chunks):
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        )
    start = await communicator.receive_output(timeout=5)
    body = []
    while True:
        message = await communicator.receive_output(timeout=5)
        body.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    await communicator.wait(timeout=5)
    return start, body


def test_the_application_sees_the_request_as_a_wsgi_server_would_give_it():
    seen = {}

    def application(environ, start_response):
        seen.update(environ)
        seen["body"] = environ["wsgi.input"].read()
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Seen", "yes")])
        return [b"stored"]

    scope = http_scope(
        "POST",
        "/webhooks/api/1/",
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", b"11"),
            (b"accept", b"text/html"),
            (b"accept", b"application/json"),
        ],
        query=b"a=1&b=%C3%A9",
    )
    start, body = asyncio.run(
        request(WsgiOnThreads(application, threads=1), scope, [b'{"a":', b"1}"])
    )

    assert start["status"] == 201
    assert (b"x-seen", b"yes") in start["headers"]
    assert b"".join(body) == b"stored"
    assert seen["body"] == b'{"a":1}'
    assert seen["REQUEST_METHOD"] == "POST"
    assert seen["PATH_INFO"] == "/webhooks/api/1/"
    assert seen["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert seen["CONTENT_TYPE"] == "application/json"
    assert seen["CONTENT_LENGTH"] == "11"
    assert seen["HTTP_ACCEPT"] == "text/html,application/json"
    assert seen["wsgi.url_scheme"] == "https"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == ("support.example.com", "443")
    assert seen["REMOTE_ADDR"] == "203.0.113.7"


def test_a_large_body_waits_in_a_file_and_arrives_whole():
    received = {}

    def application(environ, start_response):
        received["is_in_memory"] = not environ["wsgi.input"]._rolled
        received["body"] = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [b""]

    chunk = b"x" * (256 * 1024)
    chunks = [chunk] * (BODY_IN_MEMORY_BYTES // len(chunk) + 2)
    asyncio.run(request(WsgiOnThreads(application, threads=1), http_scope("POST"), chunks))

    assert received["body"] == b"".join(chunks)
    assert received["is_in_memory"] is False


class Streamed:
    """What Django returns for a file or a generator: `streaming`, and a close()."""

    streaming = True

    def __init__(self) -> None:
        self.closed_on: threading.Thread | None = None

    def __iter__(self):
        yield b"first "
        yield b""
        yield b"second"

    def close(self) -> None:
        self.closed_on = threading.current_thread()


def test_a_streaming_answer_goes_out_chunk_by_chunk_and_is_closed_on_its_thread():
    answer = Streamed()

    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return answer

    start, body = asyncio.run(request(WsgiOnThreads(application, threads=1), http_scope()))

    assert start["status"] == 200
    assert [chunk for chunk in body if chunk] == [b"first ", b"second"]
    assert answer.closed_on is not None
    assert answer.closed_on.name.startswith("wsgi")


def test_no_more_requests_run_at_once_than_there_are_threads():
    running, most = 0, 0
    lock = threading.Lock()
    release = threading.Event()

    def application(environ, start_response):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        start_response("200 OK", [])
        return [b"done"]

    app = WsgiOnThreads(application, threads=2)

    async def six_at_once():
        requests = [asyncio.ensure_future(request(app, http_scope())) for _ in range(6)]
        await asyncio.sleep(0.3)
        release.set()
        return await asyncio.gather(*requests)

    answers = asyncio.run(six_at_once())

    assert [start["status"] for start, _ in answers] == [200] * 6
    assert most == 2


def test_async_code_called_from_the_application_runs_on_the_serving_loop():
    loops = {}

    async def where_am_i():
        loops["inner"] = asyncio.get_running_loop()

    def application(environ, start_response):
        # What inbox.realtime does after a commit: group_send through async_to_sync.
        async_to_sync(where_am_i)()
        start_response("204 No Content", [])
        return []

    async def serve():
        loops["serving"] = asyncio.get_running_loop()
        return await request(WsgiOnThreads(application, threads=1), http_scope())

    start, _ = asyncio.run(serve())

    assert start["status"] == 204
    assert loops["inner"] is loops["serving"]


def test_a_client_gone_before_its_body_arrived_runs_nothing():
    calls = []

    def application(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    async def disconnect_early():
        communicator = ApplicationCommunicator(
            WsgiOnThreads(application, threads=1), http_scope("POST")
        )
        await communicator.send_input({"type": "http.request", "body": b"{", "more_body": True})
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=5)

    asyncio.run(disconnect_early())

    assert calls == []


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_only_http_is_served(kind):
    app = WsgiOnThreads(lambda environ, start_response: [], threads=1)
    with pytest.raises(ValueError, match=kind):
        asyncio.run(app({"type": kind}, None, None))
