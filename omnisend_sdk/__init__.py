"""omnisend_sdk: export customer segments to Omnisend as contacts.

Everything public is imported here; the modules behind it are private and may move.
"""

from omnisend_sdk._auth import ApiKey
from omnisend_sdk._client import AsyncOmnisendClient, ClientStats, OmnisendClient
from omnisend_sdk._contacts import ContactFilters
from omnisend_sdk._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchWaitTimeoutError,
    ConfigurationError,
    ConflictError,
    FieldError,
    GoneError,
    InvalidRequestError,
    MappingError,
    NotFoundError,
    OmnisendError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PrivacyAcknowledgementError,
    ProblemDetails,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from omnisend_sdk._models import (
    Batch,
    BatchItem,
    BatchItems,
    ChannelState,
    Consent,
    Contact,
    ContactIdentifier,
    ContactInput,
    ContactStatus,
    Identifier,
    UpsertResult,
)
from omnisend_sdk._ratelimit import RateLimiter
from omnisend_sdk._retry import RetryPolicy
from omnisend_sdk._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiKey",
    "AsyncOmnisendClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchItem",
    "BatchItems",
    "BatchWaitTimeoutError",
    "ChannelState",
    "ClientStats",
    "ConfigurationError",
    "ConflictError",
    "Consent",
    "Contact",
    "ContactFilters",
    "ContactIdentifier",
    "ContactInput",
    "ContactStatus",
    "FieldError",
    "GoneError",
    "Identifier",
    "InvalidRequestError",
    "MappingError",
    "NotFoundError",
    "OmnisendClient",
    "OmnisendError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PrivacyAcknowledgementError",
    "ProblemDetails",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "ServerError",
    "UnexpectedResponseError",
    "UpsertResult",
    "__version__",
]
