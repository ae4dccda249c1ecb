"""The shared ListImports board: N running imports cost N/25 list pages per poll, not N DescribeImport calls."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from bot.aws.accounts import Place
from bot.restores.import_board import ImportStatusBoard

ARNS = [f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}/import/0176838593{i:04d}-0000abcd" for i in range(60)]


class ListImportsStandIn:
    """Answers ListImports in pages of PageSize, with the statuses set on it; counts calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.statuses = dict.fromkeys(ARNS, "IN_PROGRESS")
        self.failing = False
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                standin.calls[self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]] += 1
                if standin.failing:
                    self._answer(500, {"__type": "InternalServerError", "message": "down"})
                    return
                arns = list(standin.statuses)
                start = int(body.get("NextToken") or "0", 16)
                page = arns[start : start + int(body["PageSize"])]
                answer: dict[str, Any] = {
                    "ImportSummaryList": [{"ImportArn": a, "ImportStatus": standin.statuses[a]} for a in page]
                }
                if start + len(page) < len(arns):
                    answer["NextToken"] = f"{start + len(page):0112x}"  # AWS's tokens: 112+ hex characters
                self._answer(200, answer)

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def standin() -> Iterator[ListImportsStandIn]:
    server = ListImportsStandIn()
    yield server
    server.server.shutdown()


def client(standin: ListImportsStandIn) -> Any:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
        endpoint_url=f"http://127.0.0.1:{standin.server.server_address[1]}",
        config=boto3.session.Config(retries={"total_max_attempts": 1}),
    )


def test_sixty_running_imports_cost_three_list_pages_per_poll(standin: ListImportsStandIn) -> None:
    now = [0.0]
    board = ImportStatusBoard(max_age=30, clock=lambda: now[0])
    ddb, place = client(standin), Place(None, "us-east-1")
    assert all(board.status(ddb, place, arn) == "IN_PROGRESS" for arn in ARNS)
    assert standin.calls == Counter({"ListImports": 3})
    standin.statuses[ARNS[7]] = "COMPLETED"
    assert board.status(ddb, place, ARNS[7]) == "IN_PROGRESS"  # still the same poll
    now[0] = 31.0
    assert board.status(ddb, place, ARNS[7]) == "COMPLETED"  # the next poll sees the change
    assert standin.calls == Counter({"ListImports": 6})


def test_an_unlisted_import_or_a_failing_list_leaves_it_to_describe(standin: ListImportsStandIn) -> None:
    board = ImportStatusBoard(max_age=30)
    ddb, place = client(standin), Place(None, "us-east-1")
    assert board.status(ddb, place, "arn:aws:dynamodb:us-east-1:123456789012:table/x/import/new") is None
    standin.failing = True
    other = ImportStatusBoard(max_age=30)
    assert other.status(ddb, place, ARNS[0]) is None
