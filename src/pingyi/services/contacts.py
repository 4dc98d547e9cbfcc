"""The citizen's optional call-back contact: encrypted at rest with a key derived
from the secret key (never stored in the database), readable only by the call-back
role, every read audited, deleted when the case closes (DESIGN.md section 9)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken

from pingyi.security import derive_key
from pingyi.settings import get_settings


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(get_settings().secret_key, "contact")))


def encrypt_contact(contact: str) -> str:
    return _fernet().encrypt(contact.encode()).decode()


def decrypt_contact(ciphertext: str) -> str | None:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None
