"""photocheck: is the portrait on a KTP-el card eligible for photo replacement?

    >>> import photocheck
    >>> result = photocheck.check("photo.jpg")
    >>> result.decision, result.reasons

See README.md for the decision rules, reason codes and measures.
"""

__version__ = "0.1.0"

from .errors import ErrorCode, PhotocheckError  # noqa: E402
from .pipeline import Checker, Inspection, check  # noqa: E402
from .policy import Policy  # noqa: E402
from .schema import Decision, Reason, RequestReason, Result, json_schema  # noqa: E402

__all__ = [
    "Checker", "Decision", "ErrorCode", "Inspection", "PhotocheckError", "Policy", "Reason",
    "RequestReason", "Result", "__version__", "check", "json_schema",
]
