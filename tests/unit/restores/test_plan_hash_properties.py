"""The plan hash binds an approval to exactly one plan: a stored plan read back hashes the same, and any change of
what will run (a source, the target, the account, an option) changes the hash."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from hypothesis import given
from hypothesis import strategies as st

from bot.restores.models import LoadOptions, LoadSource, PitrOptions, RestoreMode, RestorePlan, TableOrigin

texts = st.text(max_size=40)
optional = st.none() | texts
origins = st.builds(TableOrigin, name=texts, alias=optional, region=texts, arn=optional)
pitr_options = st.builds(
    PitrOptions,
    source_table=origins,
    restore_time=st.none() | st.datetimes(timezones=st.just(UTC)),
    billing_mode=st.none() | st.sampled_from(["PAY_PER_REQUEST", "PROVISIONED"]),
)
load_sources = st.builds(
    LoadSource,
    url=texts,
    export_id=texts,
    export_type=st.sampled_from(["FULL_EXPORT", "INCREMENTAL_EXPORT"]),
    export_format=st.sampled_from(["DYNAMODB_JSON", "ION"]),
    bucket=texts,
    prefix=texts,
    owner=optional,
    read_alias=optional,
    read_region=optional,
    manifest_md5=optional,
)
load_options = st.builds(
    LoadOptions,
    key_names=st.lists(texts, min_size=1, max_size=2).map(tuple),
    exports=st.lists(load_sources, min_size=1, max_size=4).map(tuple),
)


@st.composite
def plans(draw: st.DrawFn) -> RestorePlan:
    mode = draw(st.sampled_from([RestoreMode.PITR, RestoreMode.LOAD]))
    options = draw(pitr_options if mode == RestoreMode.PITR else load_options)
    return RestorePlan(
        mode=mode,
        sources=tuple(draw(st.lists(texts, min_size=1, max_size=4))),
        target=draw(texts),
        alias=draw(optional),
        region=draw(texts),
        options=options,
    )


@given(plans())
def test_a_stored_plan_read_back_hashes_the_same(plan: RestorePlan) -> None:
    assert RestorePlan.from_dict(plan.as_dict()).digest() == plan.digest()


@given(plans(), plans())
def test_two_plans_hash_the_same_only_when_they_store_the_same(first: RestorePlan, second: RestorePlan) -> None:
    assert (first.digest() == second.digest()) == (first.as_dict() == second.as_dict())


@given(plans(), texts, texts)
def test_a_changed_target_or_source_changes_the_hash(plan: RestorePlan, target: str, source: str) -> None:
    if target != plan.target:
        assert replace(plan, target=target).digest() != plan.digest()
    if (source,) != plan.sources:
        assert replace(plan, sources=(source,)).digest() != plan.digest()
    reordered = tuple(reversed(plan.sources))
    if reordered != plan.sources:
        assert replace(plan, sources=reordered).digest() != plan.digest(), "the order exports are applied in counts"


@given(plans(), st.none() | texts)
def test_a_changed_manifest_checksum_changes_the_hash(plan: RestorePlan, checksum: str | None) -> None:
    if not isinstance(plan.options, LoadOptions):
        return
    first = plan.options.exports[0]
    if checksum == first.manifest_md5:
        return
    exports = (replace(first, manifest_md5=checksum), *plan.options.exports[1:])
    assert replace(plan, options=replace(plan.options, exports=exports)).digest() != plan.digest()
