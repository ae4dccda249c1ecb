"""The loader reaches DynamoDB as botocore would: through the same proxies (environment, NO_PROXY, Config), with
the same TLS verification (a CA file or directory), checked against botocore's own client on the same settings."""

from __future__ import annotations

import base64
import datetime
import http.client
import select
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import orjson
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.loader.batch_writer import BatchWriter, BatchWriteRefused, WriteStats
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.lines import ExportLineReader
from tests.support.ddb_sink import DynamoDbSink
from tests.support.export_fixtures import sample_items

KEYS = ("pk", "sk")


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    directory: Path  # the certificate under its OpenSSL subject hash, as a CA directory (capath) holds it


def make_certificate(folder: Path, name: str) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    subject_hash = subprocess.run(
        ["openssl", "x509", "-subject_hash", "-noout", "-in", str(cert_path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    directory = folder / "ca-dir"
    directory.mkdir()
    (directory / f"{subject_hash}.0").write_bytes(cert_path.read_bytes())
    return Certificate(cert_path, key_path, directory)


class RecordingProxy:
    """A forward proxy on 127.0.0.1: CONNECT tunnels and absolute-URL forwarding, recording what it was asked."""

    def __init__(self, require_auth: str | None = None) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # (method, target, Proxy-Authorization)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _allowed(self) -> bool:
                auth = self.headers.get("Proxy-Authorization")
                proxy.seen.append((self.command, self.path, auth))
                if require_auth is not None and auth != require_auth:
                    self.send_response(407)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return False
                return True

            def do_CONNECT(self) -> None:
                if not self._allowed():
                    return
                host, port = self.path.rsplit(":", 1)
                assert host in ("localhost", "127.0.0.1"), "the test proxy only reaches this machine"
                upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                _relay(self.connection, upstream)
                self.close_connection = True

            def do_POST(self) -> None:
                if not self._allowed():
                    return
                target = urlsplit(self.path)
                assert target.hostname in ("localhost", "127.0.0.1")
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream = http.client.HTTPConnection("127.0.0.1", target.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
                upstream.request("POST", target.path or "/", body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.port = self._server.server_address[1]

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials}127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 10)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
    finally:
        upstream.close()


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "sink", "localhost")


@pytest.fixture
def https_sink(certificate: Certificate) -> Iterator[DynamoDbSink]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    sink = DynamoDbSink({"target": KEYS}).start(tls=context)
    yield sink
    sink.stop()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    running = RecordingProxy()
    yield running
    running.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def write_through(url: str, config: Config | None = None) -> tuple[Any, DynamoDbSink | None]:
    """Five puts by the loader, then one DescribeTable by botocore's own client built with the same settings."""
    client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", config=config)
    endpoint = DynamoDbEndpoint.of(client, boto3.Session().get_credentials())
    writer = BatchWriter(endpoint, "target", stats=WriteStats(), halt=threading.Event())
    requests = [ExportLineReader(KEYS).read(orjson.dumps({"Item": i}) + b"\n")[0] for i in sample_items(5)]
    try:
        writer.write(requests, "s3://bucket/key")
    finally:
        writer.close()
    return client.describe_table(TableName="target"), None


def connects(proxy: RecordingProxy) -> list[str]:
    return [target for method, target, _ in proxy.seen if method == "CONNECT"]


def test_https_goes_through_the_environments_proxy_with_its_credentials_as_botocore_does(
    https_sink: DynamoDbSink, proxy: RecordingProxy, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url("loader:p%40ss@"))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate.cert))

    write_through(https_sink.endpoint_url)

    port = urlsplit(https_sink.endpoint_url).port
    assert len(https_sink.items()) == 5
    assert connects(proxy) == [f"localhost:{port}", f"localhost:{port}"]  # the loader's, then botocore's
    expected = "Basic " + base64.b64encode(b"loader:p@ss").decode()
    assert {auth for _, _, auth in proxy.seen} == {expected}


def test_no_proxy_bypasses_the_proxy_for_the_loader_as_for_botocore(
    https_sink: DynamoDbSink, proxy: RecordingProxy, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", "example.org,localhost")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate.cert))

    write_through(https_sink.endpoint_url)

    assert len(https_sink.items()) == 5 and proxy.seen == []


def test_a_proxy_in_the_clients_config_is_used_even_for_a_host_in_no_proxy_as_botocore_does(
    https_sink: DynamoDbSink, proxy: RecordingProxy, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate.cert))

    write_through(https_sink.endpoint_url, Config(proxies={"https": proxy.url()}))

    assert len(https_sink.items()) == 5 and len(connects(proxy)) == 2


def test_plain_http_is_forwarded_by_the_proxy_with_absolute_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = RecordingProxy()
    try:
        with DynamoDbSink({"target": KEYS}) as sink:
            monkeypatch.setenv("HTTP_PROXY", proxy.url())
            write_through(sink.endpoint_url)

            assert len(sink.items()) == 5
            assert [(m, t) for m, t, _ in proxy.seen] == [("POST", sink.endpoint_url + "/")] * 2
    finally:
        proxy.close()


def test_a_ca_directory_verifies_the_endpoint(
    https_sink: DynamoDbSink, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate.directory))
    client = boto3.client("dynamodb", endpoint_url=https_sink.endpoint_url, region_name="us-east-1")
    endpoint = DynamoDbEndpoint.of(client, boto3.Session().get_credentials())
    assert endpoint.verify == str(certificate.directory)
    writer = BatchWriter(endpoint, "target", stats=WriteStats(), halt=threading.Event())
    requests = [ExportLineReader(KEYS).read(orjson.dumps({"Item": i}) + b"\n")[0] for i in sample_items(3)]

    writer.write(requests, "s3://bucket/key")

    assert len(https_sink.items()) == 3


def test_an_endpoint_certificate_the_ca_bundle_does_not_vouch_for_is_refused(
    https_sink: DynamoDbSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(make_certificate(tmp_path / "other", "localhost").cert))
    with pytest.raises(BatchWriteRefused, match="TLS certificate could not be verified"):
        write_through(https_sink.endpoint_url)
    assert https_sink.items() == {}


def test_a_proxy_asking_for_credentials_is_refused_at_once_with_how_to_give_them(
    https_sink: DynamoDbSink, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = RecordingProxy(require_auth="Basic c29tZW9uZTpzZWNyZXQ=")
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url())
        monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate.cert))
        with pytest.raises(BatchWriteRefused, match="asked for credentials") as caught:
            write_through(https_sink.endpoint_url)
        assert "HTTPS_PROXY=http://user:password@host:port" in str(caught.value) and len(proxy.seen) == 1
    finally:
        proxy.close()
