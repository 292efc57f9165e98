"""Connections that hog the server: slow headers, slow or oversized bodies, too many sockets, no descriptors."""

import asyncio
import http.client
import resource
import signal
import socket

import orjson
import pytest
from tornado.simple_httpclient import HTTPStreamClosedError
from tornado.tcpclient import TCPClient

from tests.mongo_server import free_port
from tests.test_server_process import start_server, wait_until_listening

gen_test = pytest.mark.gen_test


async def open_connection(base_url: str):
    host, port = base_url.split("//")[1].split(":")
    return await TCPClient().connect(host, int(port))


@pytest.mark.settings(IDLE_TIMEOUT=0.3)
@gen_test(timeout=5)
async def test_a_client_that_never_finishes_its_headers_is_dropped(base_url, http_server):
    stream = await open_connection(base_url)
    await stream.write(b"POST /api/token/ HTTP/1.1\r\nHost: x\r\n")  # and nothing more (slowloris)
    assert await stream.read_until_close() == b""


@pytest.mark.settings(BODY_TIMEOUT=0.3)
@gen_test(timeout=5)
async def test_a_body_that_never_finishes_is_dropped(base_url, http_server):
    stream = await open_connection(base_url)
    await stream.write(b"POST /api/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 1000\r\n\r\n{\"username\"")
    await stream.read_until_close()


@gen_test(timeout=5)
async def test_an_oversized_content_length_is_refused_before_the_body_is_sent(base_url, http_server):
    stream = await open_connection(base_url)
    await stream.write(b"POST /api/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 1048576\r\n\r\n")  # the body never comes
    head = await stream.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1])
    assert orjson.loads(await stream.read_bytes(length)) == {"detail": "Request body exceeds 65536 bytes."}


@pytest.mark.settings(MAX_CONNECTIONS_PER_ADDRESS=3)
@gen_test(timeout=5)
async def test_connections_beyond_the_per_address_cap_are_closed_at_once(api, base_url, http_server):
    held = [await open_connection(base_url) for _ in range(3)]
    refused = await open_connection(base_url)
    assert await refused.read_until_close() == b""
    held.pop(0).close()
    while True:  # a slot is free again once the server has seen that close
        try:
            assert (await api.get("/api/health/")).status == 200
            break
        except HTTPStreamClosedError:
            await asyncio.sleep(0.01)
    for stream in held:
        stream.close()


def test_out_of_file_descriptors_the_server_pauses_accepting_and_keeps_serving(tmp_path):
    port = free_port()
    limit = 64
    process = start_server("--port", str(port), env={"ARENA_RESULTS_JOURNAL": str(tmp_path)},
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    try:
        wait_until_listening(process)
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        kept.request("GET", "/api/health/")
        assert kept.getresponse().read()
        flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(2 * limit)]
        kept.request("GET", "/api/health/")  # an open connection is still served
        response = kept.getresponse()
        assert response.status == 200 and orjson.loads(response.read())["status"] == "ok"
        for sock in flood:
            sock.close()
        fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        fresh.request("GET", "/api/health/")  # and accepting resumes once descriptors are free
        assert fresh.getresponse().status == 200
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=15)
    finally:
        process.kill()
    assert "Traceback" not in log and log.count("cannot accept connections") < 20
