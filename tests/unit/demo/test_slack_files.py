"""The stand-in's file upload takes what slack_sdk's files_upload_v2 sends and refuses what Slack refuses."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.demo.slack_standin import SlackStandIn


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=standin.api_url)


def test_files_upload_v2_shares_the_bytes_in_the_channel_with_its_comment(
    standin: SlackStandIn, client: WebClient
) -> None:
    answer = client.files_upload_v2(
        file_uploads=[
            {"content": "a,b\n1,2\n", "filename": "evidence.csv", "title": "Evidence (CSV)"},
            {"content": "# Evidence\n", "filename": "evidence.md"},
        ],
        channel="C0OPS",
        initial_comment="Controls evidence",
    )
    assert answer["ok"] and len(answer["files"]) == 2
    shared = standin.files("C0OPS")
    assert [(f.filename, f.title, f.text) for f in shared] == [
        ("evidence.csv", "Evidence (CSV)", "a,b\n1,2\n"),
        ("evidence.md", "evidence.md", "# Evidence\n"),
    ]
    (message,) = standin.messages("C0OPS")
    assert message.text == "Controls evidence" and message.files == tuple(f.id for f in shared)
    assert standin.files("C0OTHER") == []


def test_a_file_shared_without_a_channel_stays_private(standin: SlackStandIn, client: WebClient) -> None:
    client.files_upload_v2(content="x", filename="x.txt")
    assert [f.channels for f in standin.files()] == [[]] and standin.messages() == []


@pytest.mark.parametrize(("length", "error"), [(0, "missing_argument"), ("many", "invalid_arguments")])
def test_an_upload_url_needs_a_positive_length(client: WebClient, length: object, error: str) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.api_call("files.getUploadURLExternal", params={"filename": "x.csv", "length": length})
    assert refused.value.response["error"] == error


def test_completing_a_file_whose_bytes_never_arrived_is_file_not_found(
    standin: SlackStandIn, client: WebClient
) -> None:
    issued = client.files_getUploadURLExternal(filename="x.csv", length=3)
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": issued["file_id"]}], channel_id="C0OPS")
    assert refused.value.response["error"] == "file_not_found" and standin.messages() == []
    with pytest.raises(SlackApiError) as unknown:
        client.files_completeUploadExternal(files=[{"id": "F404"}], channel_id="C0OPS")
    assert unknown.value.response["error"] == "file_not_found"


def test_bytes_sent_to_an_upload_url_never_issued_are_refused(standin: SlackStandIn) -> None:
    request = urllib.request.Request(f"{standin.api_url[:-5]}/upload/v1/F404", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 404


def test_a_channel_the_bot_was_removed_from_refuses_the_share(standin: SlackStandIn, client: WebClient) -> None:
    standin.refuse_channel("C0GONE")
    with pytest.raises(SlackApiError) as refused:
        client.files_upload_v2(content="x", filename="x.txt", channel="C0GONE")
    assert refused.value.response["error"] == "not_in_channel" and standin.files() == []
