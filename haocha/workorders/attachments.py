"""Attachments of work-order steps (evidence, rectification photos): private storage, served only to
people who may see the order."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

from haocha.core.errors import InvalidInput

MAX_FILES = 5
MAX_NAME = 120
MAX_BYTES = 10 * 1024 * 1024
ALLOWED = {".jpg", ".jpeg", ".png", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".txt"}


def private_storage() -> FileSystemStorage:
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "private")


def save_attachments(order_number: str, files) -> list[dict]:
    """Validate all files first (nothing is stored when one is refused), then store them."""
    files = list(files)
    if len(files) > MAX_FILES:
        raise InvalidInput(f"每次最多上传{MAX_FILES}个附件", code="too_many_files")
    for f in files:
        suffix = Path(f.name).suffix.lower()
        if suffix not in ALLOWED:
            raise InvalidInput(
                f"附件“{f.name}”的类型不允许（允许：{'、'.join(sorted(ALLOWED))}）", code="file_type"
            )
        if len(Path(f.name).name) > MAX_NAME:
            raise InvalidInput(f"附件文件名不能超过{MAX_NAME}个字", code="file_name_too_long")
        if f.size > MAX_BYTES:
            raise InvalidInput(f"附件“{f.name}”超过10MB", code="file_too_large")
    storage = private_storage()
    saved = []
    for f in files:
        name = storage.save(f"workorders/{order_number}/{uuid.uuid4().hex}{Path(f.name).suffix.lower()}", f)
        saved.append({"name": Path(f.name).name, "path": name, "size": f.size})
    return saved
