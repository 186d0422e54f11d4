"""Every number and name the SDK relies on, each with its reason and unit.

The Omnisend facts come from Omnisend's public API reference (version 2026-03-15 and v3). Values the
public material leaves open are marked "unconfirmed" so they can be changed here, in one place.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Literal

ApiVersion = Literal["2026-03-15", "v3"]

#: The latest stable version; v3 is older but still served.
DEFAULT_API_VERSION: Final[ApiVersion] = "2026-03-15"
API_VERSIONS: Final[tuple[ApiVersion, ...]] = ("2026-03-15", "v3")

#: Base URL per API version: the dated versions live under /api, v3 under /v3.
DEFAULT_BASE_URLS: Final[dict[ApiVersion, str]] = {
    "2026-03-15": "https://api.omnisend.com/api",
    "v3": "https://api.omnisend.com/v3",
}

#: Environment variables read by ``OmnisendClient.from_env()``.
ENV_API_KEY: Final = "OMNISEND_API_KEY"
ENV_BASE_URL: Final = "OMNISEND_BASE_URL"
ENV_API_VERSION: Final = "OMNISEND_API_VERSION"

#: Omnisend recommends a 10 s client timeout; connecting should take far less.
DEFAULT_TIMEOUT_SECONDS: Final = 10.0
DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 5.0
#: Keep-alive connections; enough to keep the rate budget busy at high latency (see _ratelimit).
DEFAULT_MAX_CONNECTIONS: Final = 32

# --- retry -------------------------------------------------------------------------------------

#: Attempts per request, the first one included. Five attempts ride out a minute of 5xx answers.
DEFAULT_MAX_ATTEMPTS: Final = 5
#: First backoff wait in seconds; doubles per attempt.
DEFAULT_BACKOFF_BASE_SECONDS: Final = 0.5
#: Jitter never shortens a wait below this fraction of its exponential value, so retries of many
#: workers spread out without any of them hammering the server immediately.
DEFAULT_BACKOFF_FLOOR_RATIO: Final = 0.5
#: No single wait is longer than this (seconds), even when the server asks for more.
DEFAULT_MAX_WAIT_SECONDS: Final = 60.0
#: Give up when retrying one request has taken this long in total (seconds).
DEFAULT_MAX_ELAPSED_SECONDS: Final = 300.0

#: Retry connection errors and these statuses; every other status is final.
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

# --- rate limits -------------------------------------------------------------------------------

#: Omnisend counts requests per brand (all keys of a store) over a sliding window of one minute.
RATE_LIMIT_WINDOW_SECONDS: Final = 60.0
#: Default plan: 400 requests per minute.
DEFAULT_REQUESTS_PER_MINUTE: Final = 400
#: ``/contacts/tags`` has its own, lower limit.
DEFAULT_TAG_REQUESTS_PER_MINUTE: Final = 60
#: ``/segments`` has two limits of its own: 100 a minute for GET and DELETE ...
DEFAULT_SEGMENT_REQUESTS_PER_MINUTE: Final = 100
#: ... and 15 a minute for POST and PUT (creating or changing a segment's rule).
DEFAULT_SEGMENT_WRITE_REQUESTS_PER_MINUTE: Final = 15
#: After a 429 the limiter uses this share of the limit until the window has passed without one.
THROTTLED_SHARE: Final = 0.8
#: A window with fewer than this share of its limit booked sends at once, without spacing: an
#: export shorter than a window (or the first seconds of any) need not wait for a budget nobody
#: is using. Later requests are spread evenly, so a long export ends at the same moment.
OPENING_BURST_SHARE: Final = 0.1
#: A slot is reused this share of a window after the window itself. Slots count from the answer,
#: which comes after the server counted the request, so this only covers clocks that tick apart.
WINDOW_MARGIN: Final = 0.002

# --- request limits ----------------------------------------------------------------------------

#: Items per ``POST /batches``: 1 to 100 in 2026-03-15, up to 1000 in v3.
MAX_BATCH_ITEMS: Final[dict[ApiVersion, int]] = {"2026-03-15": 100, "v3": 1000}
#: Omnisend asks to keep a request under about 1 MB; leave room for the envelope.
MAX_BATCH_BYTES: Final = 1_000_000
#: Tags per contact and per ``/contacts/tags`` call.
MAX_TAGS: Final = 100
#: Emails, contact ids or phones per ``/contacts/tags`` call.
MAX_TAG_SELECTORS: Final = 250
#: ``GET /contacts`` page size: 1 to 250, default 100.
MAX_PAGE_SIZE: Final = 250
DEFAULT_PAGE_SIZE: Final = 100
#: ``GET /segments`` page size: 1 to 50; Omnisend's default is 10.
MAX_SEGMENT_PAGE_SIZE: Final = 50
DEFAULT_SEGMENT_PAGE_SIZE: Final = 10
#: Longest segment name, in characters.
MAX_SEGMENT_NAME_LENGTH: Final = 256
#: Custom properties per contact, and the length of a property name.
MAX_CUSTOM_PROPERTIES: Final = 200
MAX_CUSTOM_PROPERTY_NAME_LENGTH: Final = 128
#: Omnisend keeps batches for 7 days; an older batch id must not be trusted.
BATCH_RETENTION: Final = timedelta(days=7)

# --- batch polling -----------------------------------------------------------------------------

#: ``batches.wait()`` polls at this interval first (seconds), then backs off ...
DEFAULT_POLL_INTERVAL_SECONDS: Final = 1.0
#: ... up to this interval, so a long batch costs few requests from the shared budget.
MAX_POLL_INTERVAL_SECONDS: Final = 15.0
#: ``batches.wait()`` gives up after this long (seconds); batch processing time is unconfirmed.
DEFAULT_BATCH_WAIT_TIMEOUT_SECONDS: Final = 600.0

#: Logger every module logs through; the SDK installs no handlers.
LOGGER_NAME: Final = "omnisend_sdk"

# --- mapping -----------------------------------------------------------------------------------

#: Longest email address accepted (characters): RFC 5321's 256-character path less its brackets.
MAX_EMAIL_LENGTH: Final = 254
#: Longest local part (before the ``@``) in characters, per RFC 5321.
MAX_EMAIL_LOCAL_LENGTH: Final = 64
#: Longest domain label (between dots) in characters, per RFC 1035; the whole domain fits in 253.
MAX_DOMAIN_LABEL_LENGTH: Final = 63
MAX_DOMAIN_LENGTH: Final = 253
#: Longest profile string sent (first name, last name, address, city, state, postal code, country
#: name), in characters. Omnisend leaves the limits unconfirmed; 255 is the common column size of
#: e-commerce platforms, so no real value is cut while garbage (a pasted document) is.
MAX_TEXT_LENGTH: Final = 255
#: Longest custom property string value, in characters (unconfirmed by Omnisend; chosen to keep a
#: batch of 100 contacts well under the 1 MB request size even with several long properties).
MAX_CUSTOM_PROPERTY_VALUE_LENGTH: Final = 2048
#: Longest tag, in characters: the limit Omnisend's own plugin enforces.
MAX_TAG_LENGTH: Final = 128
#: What happens to a string over its limit: "truncate" keeps the first characters and warns,
#: "drop" leaves the field out and warns, "reject" rejects the row. Truncating loses the least.
DEFAULT_LONG_TEXT_POLICY: Final = "truncate"
#: Which row of a repeated email is sent: "first" streams at once; "last" needs a second pass.
DEFAULT_DUPLICATE_POLICY: Final = "first"
#: Joins the parts of an address mapped from several columns ("1 Main St" + "Apt 4").
DEFAULT_ADDRESS_SEPARATOR: Final = ", "
#: Birthdates in an earlier year are placeholders or typos ("0001-01-01"): dropped with a warning.
#: 1900 is refused too: "1900-01-01" is the commonest placeholder of all (the first day of
#: spreadsheets' and many databases' calendars), and nobody born in 1900 is alive to mail.
MIN_BIRTH_YEAR: Final = 1901
#: E.164 numbers have at most 15 digits (country code included); the shortest in service have 7.
MAX_E164_DIGITS: Final = 15
MIN_E164_DIGITS: Final = 7
#: A subscription time later than now by more than this is refused (a wrong time zone, usually):
#: Omnisend ignores any status older than the stored one, so a future time would lock it. Minutes.
MAX_STATUS_TIME_SKEW_MINUTES: Final = 15
#: Bytes of a CSV file read to sniff its delimiter.
CSV_SNIFF_BYTES: Final = 65_536
#: Encoding tried, line by line, when a CSV line is not valid UTF-8: the Windows Western code page
#: that spreadsheet exports on Windows produce. Every line read this way gets a warning.
CSV_FALLBACK_ENCODING: Final = "cp1252"
#: Rows converted at a time from a DataFrame or Arrow table: bounds memory, amortises conversion.
SOURCE_CHUNK_ROWS: Final = 10_000
#: Rows a query result fetches at a time. Smaller than a frame's chunk: a cursor's rows are already
#: Python objects, so a chunk is all working memory, and a smaller one stays in the CPU's caches.
#: Measured on a million rows mapped with map_rows (2 December): 2,048 against 10,000 was 5% faster
#: and 7 MB lighter from SQLite, 12% faster and 3 MB lighter from DuckDB (whose own buffers shrink
#: with the fetch: 118 against 128 MB at their peak).
QUERY_FETCH_ROWS: Final = 2_048

#: An attempt may last this many timeouts in all, from connecting to the answer's last byte.
#: httpx's timeouts bound each phase and each read, so a server that drips a byte a second never
#: trips them; three timeouts leave room to connect, send a 1 MB batch over a slow link and then
#: wait a whole read timeout for the answer (30 s with Omnisend's recommended 10 s timeout).
DEFAULT_DEADLINE_TIMEOUTS: Final = 3.0
#: The largest answer read, in bytes (16 MiB). Omnisend's largest answers (a v3 batch's 1000 item
#: results, a page of 250 contacts) take a few MB; a bigger one is not Omnisend's, and reading it
#: whole would take memory without end (an endless body, a 200 MB page).
DEFAULT_MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024
