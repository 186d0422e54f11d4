"""Masking of personal data and secrets before they reach a log line, repr or report."""

from __future__ import annotations

import hashlib


def mask_email(email: str) -> str:
    """Keep an address recognisable to its owner without disclosing it.

    ``jane.doe@example.com`` becomes ``j***@e***.com``; text that is not an address is masked whole.
    """
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return mask_text(email)
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***.{tld}" if dot and host else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def mask_text(value: str) -> str:
    """Show the first character of a value and hide the rest."""
    return f"{value[:1]}***" if value else ""


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible id for a secret (the first 12 hex digits of its SHA-256).

    Lets a report say which key was used without holding the key.
    """
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]
