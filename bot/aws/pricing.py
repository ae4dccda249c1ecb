"""DynamoDB backup rates per region, so cost answers quote real list prices without ever failing.

Rates come from the AWS Price List API when it answers and from an embedded, dated table when it does not;
every `Rates` says in `source` which one the figures are from. Why the API could not be used goes to the log,
once per failure: its text (an HTML error page, an endpoint URL) is not something a cost message should carry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_pricing import PricingClient
    from mypy_boto3_pricing.type_defs import FilterTypeDef

logger = logging.getLogger(__name__)

EMBEDDED_PRICES_AS_OF = "2026-11-01"
FALLBACK_REGION = "us-east-1"

BYTES_PER_GB = 2**30
MAX_PAGES = 3
PAGE_SIZE = 100
MAX_REASON_CHARS = 200

# Usage-type prefixes of the Price List API; us-east-1's usage types carry none.
REGION_PREFIXES: Mapping[str, str] = {
    "us-east-1": "",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1",
    "eu-north-1": "EUN1",
    "eu-south-1": "EUS1",
    "ap-northeast-1": "APN1",
    "ap-northeast-2": "APN2",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ap-south-1": "APS3",
    "ca-central-1": "CAN1",
    "sa-east-1": "SAE1",
}


@dataclass(frozen=True)
class Rates:
    """USD list prices for one region's backup operations, with where they came from."""

    region: str
    pitr_gb_month: Decimal  # PITR, per GB-month of table size
    export_full_gb: Decimal  # full export, per GB of table size
    export_incremental_gb: Decimal  # incremental export, per GB of change data (10 MB minimum per export)
    import_gb: Decimal  # ImportTable, per GB uncompressed source
    restore_gb: Decimal  # PITR restore, per GB restored
    s3_standard_gb_month: Decimal  # S3 Standard storage per GB-month
    source: str  # human label saying whether these came from the API or the built-in table (never an error text)


def _embedded(
    pitr: str, export_full: str, export_incremental: str, import_: str, restore: str, s3: str
) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in (pitr, export_full, export_incremental, import_, restore, s3))


# Published on-demand list prices (standard table class), USD, as of EMBEDDED_PRICES_AS_OF.
# Order: PITR GB-month, full export GB, incremental export GB, import GB, restore GB, S3 Standard GB-month.
EMBEDDED_PRICES: Mapping[str, tuple[Decimal, ...]] = {
    "us-east-1": _embedded("0.20", "0.10", "0.10", "0.15", "0.15", "0.023"),
    "us-east-2": _embedded("0.20", "0.10", "0.10", "0.15", "0.15", "0.023"),
    "us-west-1": _embedded("0.224", "0.112", "0.112", "0.168", "0.168", "0.026"),
    "us-west-2": _embedded("0.20", "0.10", "0.10", "0.15", "0.15", "0.023"),
    "eu-west-1": _embedded("0.2264", "0.1132", "0.1132", "0.1698", "0.1698", "0.023"),
    "eu-west-2": _embedded("0.2376", "0.1188", "0.1188", "0.1782", "0.1782", "0.024"),
    "eu-central-1": _embedded("0.2448", "0.1224", "0.1224", "0.1836", "0.1836", "0.0245"),
    "eu-north-1": _embedded("0.214", "0.107", "0.107", "0.1605", "0.1605", "0.023"),
    "ap-northeast-1": _embedded("0.228", "0.114", "0.114", "0.171", "0.171", "0.025"),
    "ap-southeast-1": _embedded("0.228", "0.114", "0.114", "0.171", "0.171", "0.025"),
    "ap-southeast-2": _embedded("0.228", "0.114", "0.114", "0.171", "0.171", "0.025"),
    "ap-south-1": _embedded("0.228", "0.114", "0.114", "0.171", "0.171", "0.025"),
}

# BatchWriteItem on an on-demand table (the loader's `into=` restores): USD per million write request units, the
# us-east-1 list price as of EMBEDDED_PRICES_AS_OF too (one date for every built-in price; halved on 2024-11-01).
# One WRU writes up to 1 KB; a delete costs one.
WRU_PRICE_PER_MILLION = Decimal("0.625")
WRU_PRICE_REGION = "us-east-1"

# (Rates field, Price List usage type without region prefix, expected unit)
_DYNAMODB_USAGE: tuple[tuple[str, str, str], ...] = (
    ("pitr_gb_month", "TimedPITRStorage-ByteHrs", "GB-Mo"),
    ("export_full_gb", "ExportDataSize-Bytes", "GB"),
    ("export_incremental_gb", "IncrementalExportDataSize-Bytes", "GB"),
    ("import_gb", "ImportDataSize-Bytes", "GB"),
    ("restore_gb", "RestoreDataSize-Bytes", "GB"),
)
_S3_USAGE: tuple[str, str, str] = ("s3_standard_gb_month", "TimedStorage-ByteHrs", "GB-Mo")
_UNIT_SPELLINGS: Mapping[str, frozenset[str]] = {
    "GB-Mo": frozenset({"gb-mo", "gb-month"}),
    "GB": frozenset({"gb"}),
}


class PriceListError(Exception):
    """The Price List API answered, but not with a usable price."""


def gib(size_bytes: int) -> Decimal:
    """Bytes as the GB that AWS bills by (1 GB = 2**30 bytes), exact, for multiplying by a rate."""
    if size_bytes < 0:
        raise ValueError(f"size in bytes cannot be negative: {size_bytes}")
    return Decimal(size_bytes) / Decimal(BYTES_PER_GB)


def embedded_rates(region: str, reason: str) -> Rates:
    """The built-in table's rates for `region` (us-east-1's when it has none); `reason`, why the Price List API
    could not be used, is logged here and kept out of the label every cost message shows."""
    figures = EMBEDDED_PRICES.get(region)
    if figures is None:
        figures = EMBEDDED_PRICES[FALLBACK_REGION]
        source = (
            f"list prices built in, dated {EMBEDDED_PRICES_AS_OF}: none are built in for {region}, so the "
            f"{FALLBACK_REGION} figures are used, as the AWS Price List API could not be used"
        )
    else:
        source = f"list prices built in, dated {EMBEDDED_PRICES_AS_OF}, as the AWS Price List API could not be used"
    logger.warning(
        "pricing.price_list_unavailable",
        extra={"region": region, "reason": reason, "built_in_prices_as_of": EMBEDDED_PRICES_AS_OF},
    )
    pitr, export_full, export_incremental, import_, restore, s3 = figures
    return Rates(region, pitr, export_full, export_incremental, import_, restore, s3, source)


@dataclass(frozen=True)
class _Cached:
    rates: Rates
    expires_at: float


class PriceBook:
    """Per-region rates from the Price List API, cached, falling back to the embedded table on any failure.

    `client_factory` builds the pricing client (the API lives in us-east-1, eu-central-1 and ap-south-1
    only). Production builds it to fail fast: ``Config(connect_timeout=2, read_timeout=5,
    retries={"max_attempts": 1})`` (botocore counts that as one retry after the first attempt); a cost
    answer should not wait long on the price list when the embedded table will do.
    """

    def __init__(
        self,
        client_factory: Callable[[], PricingClient],
        *,
        ttl_seconds: float = 86400,
        failure_ttl_seconds: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._region_locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, _Cached] = {}
        self._client: PricingClient | None = None

    def rates(self, region: str) -> Rates:
        """Rates for `region`; never raises, and fetches a region at most once at a time."""
        with self._lock:
            hit = self._fresh(region)
            if hit is not None:
                return hit
            region_lock = self._region_locks.setdefault(region, threading.Lock())
        with region_lock:
            with self._lock:
                hit = self._fresh(region)
            if hit is not None:
                return hit
            try:
                rates = self._fetch(region)
                ttl = self._ttl
            except Exception as exc:
                rates = embedded_rates(region, _describe(exc))
                ttl = self._failure_ttl
                with self._lock:
                    self._client = None  # rebuild next time: credentials or endpoint may have changed
            with self._lock:
                self._cache[region] = _Cached(rates, self._clock() + ttl)
            return rates

    def _fresh(self, region: str) -> Rates | None:
        cached = self._cache.get(region)
        if cached is not None and self._clock() < cached.expires_at:
            return cached.rates
        return None

    def _pricing_client(self) -> PricingClient:
        with self._lock:
            client = self._client
        if client is None:
            client = self._client_factory()
            with self._lock:
                self._client = client
        return client

    def _fetch(self, region: str) -> Rates:
        prefix = REGION_PREFIXES.get(region)
        if prefix is None:
            raise PriceListError(f"no usage-type prefix known for {region}")
        client = self._pricing_client()
        ddb = {
            field: _price(client, "AmazonDynamoDB", region, _usage_types(prefix, usage), unit)
            for field, usage, unit in _DYNAMODB_USAGE
        }
        _, usage, unit = _S3_USAGE
        s3 = _price(client, "AmazonS3", region, _usage_types(prefix, usage), unit)
        today = datetime.now(UTC).date().isoformat()
        return Rates(
            region=region,
            pitr_gb_month=ddb["pitr_gb_month"],
            export_full_gb=ddb["export_full_gb"],
            export_incremental_gb=ddb["export_incremental_gb"],
            import_gb=ddb["import_gb"],
            restore_gb=ddb["restore_gb"],
            s3_standard_gb_month=s3,
            source=f"AWS Price List API, {region}, fetched {today}",
        )


def _usage_types(prefix: str, usage: str) -> tuple[str, ...]:
    """Usage-type spellings to try, most likely first (us-east-1 is unprefixed, rarely spelled USE1-)."""
    if prefix:
        return (f"{prefix}-{usage}",)
    return (usage, f"USE1-{usage}")


def _price(client: PricingClient, service: str, region: str, usage_types: tuple[str, ...], unit: str) -> Decimal:
    for usage_type in usage_types:
        price = _first_tier_price(client, service, region, usage_type, unit)
        if price is not None:
            return price
    raise PriceListError(f"{service} usage type {usage_types[0]} not in the price list for {region}")


def _first_tier_price(client: PricingClient, service: str, region: str, usage_type: str, unit: str) -> Decimal | None:
    filters: list[FilterTypeDef] = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "usagetype", "Value": usage_type},
    ]
    token: str | None = None
    for _ in range(MAX_PAGES):
        if token is None:
            page = client.get_products(ServiceCode=service, Filters=filters, MaxResults=PAGE_SIZE)
        else:
            page = client.get_products(ServiceCode=service, Filters=filters, MaxResults=PAGE_SIZE, NextToken=token)
        for entry in page.get("PriceList", []):
            price = _parse_entry(entry, region, usage_type, unit)
            if price is not None:
                return price
        token = page.get("NextToken") or None
        if token is None:
            return None
    return None


def _parse_entry(entry: str, region: str, usage_type: str, unit: str) -> Decimal | None:
    """The USD first-tier price of one PriceList entry, None if it is another product; raises if malformed."""
    try:
        product: Any = json.loads(entry)
        attributes = product["product"]["attributes"]
        if attributes.get("usagetype") != usage_type or attributes.get("regionCode", region) != region:
            return None
        for term in product["terms"]["OnDemand"].values():
            for dimension in term["priceDimensions"].values():
                if str(dimension.get("beginRange", "0")) not in ("0", "0.0"):
                    continue
                if str(dimension.get("unit", "")).lower() not in _UNIT_SPELLINGS[unit]:
                    raise PriceListError(f"{usage_type} is priced per {dimension.get('unit')!r}, not {unit}")
                price = Decimal(dimension["pricePerUnit"]["USD"])
                if not price.is_finite() or price < 0:
                    raise PriceListError(f"{usage_type} has price {price}")
                return price
    except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise PriceListError(f"unreadable price list entry for {usage_type}: {_describe(exc)}") from exc
    raise PriceListError(f"{usage_type} has no first-tier USD on-demand price")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"ClientError: {error.get('Code') or status} {error.get('Message', '')[:80]}".strip()
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, PriceListError) and type(exc).__name__ not in text:
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
