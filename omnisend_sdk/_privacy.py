"""Naming secrets without disclosing them.

Personal values are masked where issues are made (``omnisend_sdk.mapping.mask_value``).
"""

from __future__ import annotations

import hashlib


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible id for a secret (the first 12 hex digits of its SHA-256).

    Lets a report say which key was used without holding the key.
    """
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]
