"""Locating an export's data files: URLs, manifests (full and incremental layouts) and the manifest-less fallback."""

from __future__ import annotations

import base64
import gzip
import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import orjson
import pytest
from moto import mock_aws

from bot.exports.files import (
    ChecksumMismatch,
    DataFile,
    ExportManifestInvalid,
    ExportNotFound,
    InvalidExportUrl,
    manifest_changes,
    open_data_file,
    parse_s3_export_url,
    read_manifest,
)
from bot.models import ExportLocation, ExportType
from tests.support.export_fixtures import (
    EMPTY_GZIP,
    sample_items,
    write_full_export,
    write_incremental_export,
    write_moto_style_export,
)

T0 = datetime(2026, 1, 14, 10, 18, 50, 622000, tzinfo=UTC)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="exports")
        yield client


# ----------------------------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "s3://exports/ddb/orders/AWSDynamoDB/01768385930622-efd1a093/",
            ExportLocation("exports", "ddb/orders", "01768385930622-efd1a093"),
        ),
        (
            "s3://exports/AWSDynamoDB/01768385930622-efd1a093",
            ExportLocation("exports", None, "01768385930622-efd1a093"),
        ),
        (
            "s3://exports/p/AWSDynamoDB/01768385930622-efd1a093/manifest-summary.json",
            ExportLocation("exports", "p", "01768385930622-efd1a093"),
        ),
        (
            "s3://exports/a/AWSDynamoDB/b/AWSDynamoDB/0123-ab/",
            ExportLocation("exports", "a/AWSDynamoDB/b", "0123-ab"),
        ),
    ],
)
def test_export_urls_are_split_into_bucket_prefix_and_export_id(url: str, expected: ExportLocation) -> None:
    assert parse_s3_export_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://exports.s3.amazonaws.com/AWSDynamoDB/x/",
        "s3://exports/ddb/orders/",
        "s3://exports/p/AWSDynamoDB/data/",
        "s3://exports/p/AWSDynamoDB/",
        "s3://Bad_Bucket/p/AWSDynamoDB/0123-ab/",  # not an S3 bucket name: botocore would refuse it unhelpfully
        "s3://a b/AWSDynamoDB/0123-ab/",
    ],
)
def test_a_url_that_is_not_an_export_folder_is_refused_with_the_expected_form(url: str) -> None:
    with pytest.raises(InvalidExportUrl) as caught:
        parse_s3_export_url(url)
    assert url in caught.value.message
    assert caught.value.usage is not None and "AWSDynamoDB/<ExportId>/" in caught.value.usage


def test_the_bucket_owner_is_carried_for_cross_account_reads() -> None:
    location = parse_s3_export_url("s3://exports/AWSDynamoDB/0123-ab/", bucket_owner="210987654321")
    assert location.bucket_owner == "210987654321"
    assert location.folder == "AWSDynamoDB/0123-ab/"
    assert location.url == "s3://exports/AWSDynamoDB/0123-ab/"


# ----------------------------------------------------------------------------------------------- manifests


def test_a_full_export_is_read_from_its_manifests(s3: Any) -> None:
    location = write_full_export(s3, "exports", "ddb/orders", sample_items(40, seed=1), files=3, export_time=T0)

    manifest = read_manifest(s3, location)

    assert manifest.export_type == ExportType.FULL
    assert manifest.export_format == "DYNAMODB_JSON"
    assert manifest.export_time == T0 == manifest.as_of
    assert manifest.item_count == 40
    assert manifest.summary is not None and manifest.summary["version"] == "2020-06-30"
    assert len(manifest.files) == 4  # three with items, one empty partition
    assert sum(f.item_count or 0 for f in manifest.files) == 40
    for data_file in manifest.files:
        assert data_file.key.startswith(f"ddb/orders/AWSDynamoDB/{location.export_id}/data/")
        assert data_file.key.endswith(".json.gz") and len(data_file.key.rsplit("/", 1)[1]) == 26 + 8
        body = s3.get_object(Bucket="exports", Key=data_file.key)["Body"].read()
        assert data_file.md5 == base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324
    assert any(s3.get_object(Bucket="exports", Key=f.key)["Body"].read() == EMPTY_GZIP for f in manifest.files)


def test_incremental_exports_find_only_their_own_files_in_the_shared_data_folder(s3: Any) -> None:
    changes = [({"pk": {"S": f"k{n}"}}, {"pk": {"S": f"k{n}"}, "v": {"N": str(n)}}) for n in range(10)]
    first = write_incremental_export(s3, "exports", "p", changes, T0, T0 + timedelta(hours=1), files=2)
    second = write_incremental_export(
        s3, "exports", "p", changes[:3], T0 + timedelta(hours=1), T0 + timedelta(hours=2), files=2
    )

    one, two = read_manifest(s3, first), read_manifest(s3, second)

    assert one.export_type == two.export_type == ExportType.INCREMENTAL
    assert one.from_time == T0 and one.to_time == T0 + timedelta(hours=1) == one.as_of
    assert two.as_of == T0 + timedelta(hours=2)
    assert all(f.key.startswith("p/AWSDynamoDB/data/") for f in one.files + two.files)
    assert not {f.key for f in one.files} & {f.key for f in two.files}
    listed = s3.list_objects_v2(Bucket="exports", Prefix="p/AWSDynamoDB/data/")["Contents"]
    assert len(listed) == len(one.files) + len(two.files)  # the folder mixes both exports' files


def test_manifest_keys_given_without_the_prefix_are_found_under_it(s3: Any) -> None:
    location = write_incremental_export(
        s3, "exports", "team/p", [({"pk": {"S": "a"}}, None)], T0, T0 + timedelta(hours=1), keys_include_prefix=False
    )
    summary = orjson.loads(
        s3.get_object(Bucket="exports", Key=location.folder + "manifest-summary.json")["Body"].read()
    )
    assert not summary["manifestFilesS3Key"].startswith("team/")

    manifest = read_manifest(s3, location)

    assert manifest.files and all(f.key.startswith("team/p/AWSDynamoDB/data/") for f in manifest.files)


def test_an_export_without_prefix_is_read(s3: Any) -> None:
    location = write_full_export(s3, "exports", None, sample_items(5), files=1, empty_files=0)
    assert location.folder.startswith("AWSDynamoDB/")
    assert [f.item_count for f in read_manifest(s3, location).files] == [5]


def test_an_ion_export_is_reported_as_such(s3: Any) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(2), export_format="ION")
    assert read_manifest(s3, location).export_format == "ION"


@pytest.mark.parametrize("suffix", [".md5", ".checksum"])
@pytest.mark.parametrize("name", ["manifest-files", "manifest-summary"])
def test_a_manifest_that_does_not_match_its_checksum_file_is_refused_under_either_name(
    s3: Any, suffix: str, name: str
) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(5), files=2, checksums=suffix)
    s3.put_object(Bucket="exports", Key=location.folder + name + suffix, Body=b"AAAAAAAAAAAAAAAAAAAAAA==")
    with pytest.raises(ExportManifestInvalid, match=rf"{name}\.json does not match its checksum .*{name}\{suffix}"):
        read_manifest(s3, location)


@pytest.mark.parametrize("suffix", [".md5", ".checksum"])
def test_manifests_with_checksum_files_under_either_name_are_verified(s3: Any, suffix: str) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(5), files=2, checksums=suffix)
    other = ".checksum" if suffix == ".md5" else ".md5"
    assert "Contents" not in s3.list_objects_v2(Bucket="exports", Prefix=location.folder + "manifest-files" + other)

    manifest = read_manifest(s3, location)

    assert manifest.unverified == ()
    assert manifest.item_count == 5


def test_a_changed_summary_is_caught_by_its_checksum_file(s3: Any) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(5), files=2)
    key = location.folder + "manifest-summary.json"
    summary = orjson.loads(s3.get_object(Bucket="exports", Key=key)["Body"].read())
    s3.put_object(Bucket="exports", Key=key, Body=orjson.dumps({**summary, "itemCount": 5_000_000}))
    with pytest.raises(ExportManifestInvalid, match=r"manifest-summary\.json does not match its checksum"):
        read_manifest(s3, location)


def test_a_checksum_file_holding_the_hex_md5_is_accepted(s3: Any) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(3), files=1, checksums=None)
    for name in ("manifest-summary", "manifest-files"):
        body = s3.get_object(Bucket="exports", Key=f"{location.folder}{name}.json")["Body"].read()
        digest = hashlib.md5(body).hexdigest()  # noqa: S324
        s3.put_object(Bucket="exports", Key=f"{location.folder}{name}.checksum", Body=digest.encode())
    assert read_manifest(s3, location).unverified == ()


def test_manifests_without_checksum_files_are_read_and_said_to_be_unverified(s3: Any) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(5), files=2, checksums=None)

    manifest = read_manifest(s3, location)

    assert manifest.item_count == 5 and len(manifest.files) == 3
    assert manifest.unverified == (
        "manifest-summary.json has no checksum file: the table, export id, time and item count it gives are not "
        "verified",
        "manifest-files.json has no checksum file: its list of data files is not verified",
    )


def test_data_files_without_an_md5_in_the_manifest_are_counted(s3: Any) -> None:
    location = write_incremental_export(
        s3,
        "exports",
        "p",
        [({"pk": {"S": f"k{n}"}}, {"pk": {"S": f"k{n}"}}) for n in range(8)],
        T0,
        T0 + timedelta(hours=1),
        files=3,
        empty_files=1,
        md5_missing=3,
    )

    manifest = read_manifest(s3, location)

    assert sum(1 for f in manifest.files if f.md5 is None) == 3
    assert manifest.unverified == ("3 of 4 data files have no MD5 in the manifest: they are written unchecked",)


def test_the_manifest_checksum_changes_with_either_manifest_and_names_it(s3: Any) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(5), files=2, checksums=None)
    before = read_manifest(s3, location).checksum
    assert read_manifest(s3, location).checksum == before
    key = location.folder + "manifest-files.json"
    lines = s3.get_object(Bucket="exports", Key=key)["Body"].read().splitlines()
    s3.put_object(Bucket="exports", Key=key, Body=b"\n".join(lines[:-1]) + b"\n")

    after = read_manifest(s3, location).checksum

    assert after != before
    assert manifest_changes(before, after) == ["manifest-files.json"]
    assert manifest_changes(before, before) == []


def test_a_manifest_s_counts_and_types_are_checked_before_use(s3: Any) -> None:
    location = write_full_export(s3, "exports", "p", sample_items(2), files=1, checksums=None)
    key = location.folder + "manifest-summary.json"
    summary = orjson.loads(s3.get_object(Bucket="exports", Key=key)["Body"].read())
    s3.put_object(Bucket="exports", Key=key, Body=orjson.dumps({**summary, "itemCount": "many"}))
    assert read_manifest(s3, location).item_count is None
    s3.put_object(Bucket="exports", Key=key, Body=orjson.dumps({**summary, "exportType": "EVERYTHING"}))
    with pytest.raises(ExportManifestInvalid, match="unknown ExportType: 'EVERYTHING'"):
        read_manifest(s3, location)
    s3.put_object(Bucket="exports", Key=key, Body=b"{not json")
    with pytest.raises(ExportManifestInvalid, match=r"is not JSON \(line 1, column 2\)\.$"):
        read_manifest(s3, location)


# ----------------------------------------------------------------------------------------------- fallback


def test_an_export_without_manifests_is_found_by_listing_moto_s_random_folder(s3: Any) -> None:
    location = write_moto_style_export(s3, "exports", "exports/one", sample_items(3))

    manifest = read_manifest(s3, location)

    assert manifest.summary is None
    assert manifest.export_type == ExportType.FULL and manifest.export_format == "DYNAMODB_JSON"
    assert len(manifest.files) == 1 and manifest.files[0].md5 is None
    assert manifest.files[0].key.startswith("exports/one/AWSDynamoDB/") and "/data/" in manifest.files[0].key
    assert manifest.export_time is not None  # the object's LastModified, as moto's ids carry no time
    assert manifest.unverified == (
        "the export has no manifests: its 1 data file was found by listing the folder, with no manifest checksum to "
        "check against",
    )
    assert manifest.checksum.startswith("listing=")


def test_the_fallback_prefers_the_export_s_own_data_folder_and_reads_time_from_the_id(s3: Any) -> None:
    location = ExportLocation("exports", "p", "01768385930622-efd1a093")
    s3.put_object(Bucket="exports", Key=location.folder + "data/abc.json.gz", Body=EMPTY_GZIP)
    write_moto_style_export(s3, "exports", "p", sample_items(1))  # another folder: ignored

    manifest = read_manifest(s3, location)

    assert [f.key for f in manifest.files] == [location.folder + "data/abc.json.gz"]
    assert manifest.export_time == T0


def test_the_fallback_refuses_a_prefix_shared_by_several_manifestless_exports(s3: Any) -> None:
    write_moto_style_export(s3, "exports", "shared", sample_items(1))
    location = write_moto_style_export(s3, "exports", "shared", sample_items(1))
    with pytest.raises(ExportManifestInvalid, match="2 exports share its prefix"):
        read_manifest(s3, location)


def test_nothing_at_the_location_is_reported_as_not_found(s3: Any) -> None:
    with pytest.raises(ExportNotFound, match="No export was found at s3://exports/p/AWSDynamoDB/0123-ab/"):
        read_manifest(s3, ExportLocation("exports", "p", "0123-ab"))


def test_a_missing_bucket_is_reported_as_not_found(s3: Any) -> None:
    with pytest.raises(ExportNotFound, match="bucket nowhere-"):
        read_manifest(s3, ExportLocation(f"nowhere-{uuid.uuid4().hex[:8]}", "p", "0123-ab"))


# ----------------------------------------------------------------------------------------------- data files


def test_a_data_file_is_given_only_after_its_md5_matched(s3: Any) -> None:
    body = gzip.compress(b'{"Item":{"pk":{"S":"a"}}}\n')
    s3.put_object(Bucket="exports", Key="p/d.json.gz", Body=body)
    location = ExportLocation("exports", "p", "0123-ab")
    good = DataFile("p/d.json.gz", base64.b64encode(hashlib.md5(body).digest()).decode(), 1)  # noqa: S324

    with open_data_file(s3, location, good) as data:
        assert data.read() == body
    with (
        pytest.raises(ChecksumMismatch, match=r"s3://exports/p/d\.json\.gz does not match") as caught,
        open_data_file(s3, location, DataFile("p/d.json.gz", "AAAAAAAAAAAAAAAAAAAAAA==", 1)),
    ):
        pytest.fail("a mismatching file must not be opened")
    assert caught.value.key == "p/d.json.gz"


def test_a_data_file_missing_from_s3_is_named(s3: Any) -> None:
    with (
        pytest.raises(ExportNotFound, match=r"s3://exports/p/gone\.json\.gz listed by the export is missing"),
        open_data_file(s3, ExportLocation("exports", "p", "x"), DataFile("p/gone.json.gz", None, None)),
    ):
        pass


def test_sample_items_mix_every_type_in_wire_format() -> None:
    items = list(sample_items(64, seed=3))
    kinds: set[str] = set()

    def walk(value: dict[str, Any]) -> None:
        ((kind, inner),) = value.items()
        kinds.add(kind)
        for nested in inner.values() if kind == "M" else inner if kind == "L" else []:
            walk(nested)

    for item in items:
        for value in item.values():
            walk(value)
    assert kinds == {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "M", "L"}
    assert len({(i["pk"]["S"], i["sk"]["N"]) for i in items}) == 64
    assert items == list(sample_items(64, seed=3))
    assert any(len(i["balance"]["N"].replace(".", "").lstrip("-")) == 38 for i in sample_items(2000, seed=3))
