"""The stand-ins' front before moto, for benchmark 7, in a process of its own: `python -m bench.bulk_standin <moto>
<sink>` prints the front's URL and serves until terminated.

Bulk put's unconditional puts go to the BatchWriteItem sink (25 items a call, over one keep-alive connection) rather
than through moto's PutItem, which cannot keep up with the ceiling; the operation still paces itself at its
MaxWriteRequestUnits and reads its input from moto's S3 as it always does.
"""

from __future__ import annotations

import http.client
import json
import signal
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

from bot.demo.aws.standins import start_standins

TARGET = "DynamoDB_20120810.BatchWriteItem"


class SinkWriter:
    """BatchWriteItem to the sink; items left unprocessed are sent again."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._local = threading.local()

    def write(self, table_name: str, items: list[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": item}} for item in items]
        while requests:
            answer = self._post({"RequestItems": {table_name: requests}})
            requests = list((answer.get("UnprocessedItems") or {}).get(table_name, []))

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET}
        connection.request("POST", "/", json.dumps(body).encode(), headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"the sink answered {response.status}: {data[:200]!r}")
        answer: dict[str, Any] = json.loads(data or b"{}")
        return answer


def main() -> None:
    moto, sink = sys.argv[1], sys.argv[2]
    standins = start_standins(moto)
    standins.bulk.sink = SinkWriter(sink)
    print(standins.url, flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    standins.close()


if __name__ == "__main__":
    main()
