"""The shape rules behind the start-up checks: Slack ids (not names), S3 bucket names, AWS regions, account ids,
database URLs, tokens; and the one line `load_settings` makes of a bad setting."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.aws.names import account_id_problem, bucket_problem, is_account_id, is_bucket_name, is_region, region_problem
from bot.db import url_problem
from bot.settings import SettingsError, load_settings
from bot.slack_ids import SlackIdKind, is_slack_id, slack_id_problem

ID_TAIL = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=4, max_size=20)
# What people write instead of an id: names and handles Slack keeps in lowercase, channel names, mentions.
NAMES = st.one_of(
    st.from_regex(r"[a-z][a-z0-9._-]{0,20}", fullmatch=True),
    st.from_regex(r"[#@][a-z0-9._-]{1,20}", fullmatch=True),
    ID_TAIL.map(lambda tail: f"<@U{tail}>"),
)


@given(letter=st.sampled_from("UWS"), tail=ID_TAIL)
def test_user_and_user_group_ids_are_accepted(letter: str, tail: str) -> None:
    assert slack_id_problem([letter + tail], SlackIdKind.PERSON_OR_GROUP) is None


@given(letter=st.sampled_from("CGD"), tail=ID_TAIL)
def test_channel_ids_are_accepted(letter: str, tail: str) -> None:
    assert is_slack_id(letter + tail, SlackIdKind.CHANNEL)


@given(name=NAMES, kind=st.sampled_from(list(SlackIdKind)))
def test_names_handles_and_mentions_are_refused_with_the_name_and_how_to_find_an_id(
    name: str, kind: SlackIdKind
) -> None:
    problem = slack_id_problem(["U012ABCDEF" if kind == SlackIdKind.PERSON_OR_GROUP else "C012ABCDEF", name], kind)
    assert problem is not None
    assert f"`{name[:40]}` is not a Slack" in problem
    assert ("Copy member ID" in problem) if kind == SlackIdKind.PERSON_OR_GROUP else ("About tab" in problem)


@given(letter=st.sampled_from("CGDTBA"), tail=ID_TAIL)
def test_an_id_of_the_wrong_kind_is_refused(letter: str, tail: str) -> None:
    assert not is_slack_id(letter + tail, SlackIdKind.PERSON_OR_GROUP)
    assert not is_slack_id("U" + tail, SlackIdKind.CHANNEL)


def test_several_wrong_entries_are_all_named_in_one_sentence() -> None:
    problem = slack_id_problem(["alice", "U0BOB", "bob"], SlackIdKind.PERSON_OR_GROUP)
    assert problem is not None and problem.startswith("`alice`, `bob` are not Slack user ids or user-group ids;")


def s3_accepts(name: str) -> bool:
    """S3's bucket naming rules, stated one by one (the oracle for the one regular expression the bot uses)."""
    allowed = set(string.ascii_lowercase + string.digits + ".-")
    return (
        3 <= len(name) <= 63
        and set(name) <= allowed
        and name[0].isalnum()
        and name[-1].isalnum()
        and ".." not in name
        and not name.startswith("xn--")
    )


BUCKETISH = st.text(alphabet=string.ascii_letters + string.digits + ".-_ ", min_size=0, max_size=70)


@given(name=st.one_of(BUCKETISH, st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)))
def test_the_bucket_rule_is_s3s(name: str) -> None:
    assert is_bucket_name(name) == s3_accepts(name)
    problem = bucket_problem(name)
    assert (problem is None) == s3_accepts(name)
    if problem is not None:
        assert "not a valid S3 bucket name" in problem and "acme-ddb-backups" in problem


@given(region=st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]))
def test_regions_botocore_lists_are_accepted(region: str) -> None:
    assert is_region(region) and region_problem(region) is None


@given(
    prefix=st.sampled_from(["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"]),
    word=st.from_regex(r"[a-z]{4,10}", fullmatch=True),
    number=st.integers(1, 9),
)
def test_a_region_newer_than_botocore_is_accepted_by_its_partitions_shape(prefix: str, word: str, number: int) -> None:
    assert is_region(f"{prefix}-{word}-{number}")


@pytest.mark.parametrize("region", ["mars-1", "eu-west", "EU-WEST-1", "eu-west-1 ", "euwest1", "", "us_east_1"])
def test_regions_that_match_no_partition_are_refused_with_an_example(region: str) -> None:
    problem = region_problem(region)
    assert problem is not None and "is not an AWS region" in problem and "eu-west-1" in problem


@given(digits=st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_account_ids_are_twelve_digits(digits: str) -> None:
    assert account_id_problem(digits) is None
    assert account_id_problem(digits[:-1]) is not None and account_id_problem(digits + "0") is not None


@pytest.mark.parametrize(
    "text", ["١٢٣٤٥٦٧٨٩٠١٢", "１２３４５６７８９０１２", "123456789012\n", " 123456789012", "12345678901x"]
)
def test_an_account_id_is_twelve_ascii_digits_and_nothing_else(text: str) -> None:
    """The one rule the settings, the config file and every command's owner= share."""
    assert account_id_problem(text) is not None
    assert not is_account_id(text)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///ddb-backup-bot.sqlite3", None),
        ("sqlite://", None),
        ("postgresql://u:p@db:5432/bot", None),
        ("postgres://u:p@db/bot", None),
        ("postgresql+psycopg://u@db/bot", None),
        ("db.sqlite3", "not a database URL"),
        ("mysql://u@db/bot", "`mysql` databases are not supported"),
        ("oracle://u@db/bot", "`oracle` databases are not supported"),
        ("postgresql+psycopg2://u@db/bot", "driver `psycopg2` is not installed"),
        ("postgresql+nosuchdriver://u@db/bot", "driver `nosuchdriver` is not installed"),
    ],
)
def test_database_urls_are_parsed_and_their_driver_found_without_connecting(url: str, said: str | None) -> None:
    problem = url_problem(url)
    assert problem is None if said is None else (problem is not None and said in problem)
    if problem is not None:
        assert "sqlite:///" in problem and "postgresql://" in problem, "an example of how to write it"
        assert ":p@" not in problem


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("DDBBOT_OPERATORS", "alice,bob", "DDBBOT_OPERATORS: `alice`, `bob` are not Slack user ids"),
        ("DDBBOT_APPROVERS", "U0ALICE, bob", "DDBBOT_APPROVERS: `bob` is not a Slack user id or user-group id"),
        ("DDBBOT_ONCALL", "@oncall", "DDBBOT_ONCALL: `@oncall` is not a Slack user id"),
        ("DDBBOT_NOTIFY_CHANNEL", "#backups", "DDBBOT_NOTIFY_CHANNEL: `#backups` is not a Slack channel id"),
        ("DDBBOT_APPROVAL_CHANNEL", "U0ALICE", "DDBBOT_APPROVAL_CHANNEL: `U0ALICE` is not a Slack channel id"),
        ("DDBBOT_EXPORT_BUCKET", "Bad_Bucket", "DDBBOT_EXPORT_BUCKET: `Bad_Bucket` is not a valid S3 bucket name"),
        ("DDBBOT_EXPORT_BUCKET_OWNER", "123", "DDBBOT_EXPORT_BUCKET_OWNER: `123` is not an AWS account id"),
        ("AWS_REGION", "mars-1", "AWS_REGION: `mars-1` is not an AWS region"),
        ("AWS_DEFAULT_REGION", "eu-west", "AWS_DEFAULT_REGION: `eu-west` is not an AWS region"),
        ("DDBBOT_DATABASE_URL", "mysql://u@db/bot", "DDBBOT_DATABASE_URL: `mysql` databases are not supported"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: it is not a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-bot-token", "SLACK_APP_TOKEN: it is not an app-level token"),
        ("DDBBOT_RESTORE_RATE", "fast", "DDBBOT_RESTORE_RATE: must be write units a second"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    variable: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message and said in message
    assert "Value error" not in message
    assert "xoxp-user-token" not in message and "xoxb-bot-token" not in message, "tokens are never repeated"


@pytest.mark.parametrize("token", ["xoxb-1234-5678-abcd", "xoxe.xoxb-1-abcdef"])
def test_bot_tokens_with_and_without_rotation_are_accepted(token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    assert load_settings().slack_bot_token is not None


def test_every_refusal_of_the_id_rule_says_how_to_write_an_id() -> None:
    for kind in SlackIdKind:
        problem = slack_id_problem(["x"], kind)
        assert problem is not None and re.search(r"like [UC]012ABCDEF", problem)
