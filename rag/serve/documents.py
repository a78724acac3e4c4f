"""The articles from the web: which are indexed (with their metadata), and adding or removing one, written
atomically into the corpus folder and then indexed incrementally: the /api/documents routes and what the chat's
«Статьи» panel calls. Writes need the admin token."""
from __future__ import annotations

import hmac
import os
import tempfile
import unicodedata
import uuid
from pathlib import Path, PurePath

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from rag.config import Settings
from rag.errors import BadFileError, DocumentError, DocumentTooLargeError, NoSuchDocumentError
from rag.index.store import Index
from rag.ingest.corpus import load_document
from rag.serve.live import Live
from rag.serve.watch import ARTICLE_SUFFIXES
from rag.texts import text


class DocumentOut(BaseModel):
    """One indexed article; metadata that ingestion adds to its documents (an outlet, say) appears as well."""

    model_config = ConfigDict(extra="allow")
    file: str = Field(description="File name relative to the corpus folder.")
    title: str
    date: str | None
    chunks: int
    indexed_at: str | None = Field(description="When this version of the file was indexed.")


class DocumentsOut(BaseModel):
    build: str
    admin: bool = Field(description="Whether uploads and deletions are on (RAG_ADMIN_TOKEN is set).")
    documents: list[DocumentOut]


class DocumentChanged(BaseModel):
    file: str
    replaced: bool = Field(False, description="An upload that replaced an article of the same name.")
    build: str = Field(description="The build serving after the change (it includes the change).")
    documents: int


# A Document's fields that are not metadata: every other field (title, date, dateline, and whatever ingestion
# adds, an outlet say) is listed as it is.
NOT_METADATA = frozenset({"source", "text", "paragraphs", "sha256"})
FORBIDDEN_CHARS = frozenset('/\\:*?"<>|')
MAX_NAME_BYTES = 255  # a file name's limit on Linux file systems


def listing(index: Index) -> list[dict]:
    """Every indexed article: file, its metadata, its chunk count and when it was (last) indexed."""
    counts = dict(zip(index.chunks.sources, np.bincount(index.chunks.doc, minlength=len(index.chunks.sources)).tolist()))
    files = index.manifest.get("files", {})
    return [
        {"file": name, **{k: v for k, v in vars(doc).items() if k not in NOT_METADATA}, "chunks": counts.get(name, 0),
         "indexed_at": files.get(name, {}).get("indexed_at", index.manifest.get("built_at"))}
        for name, doc in sorted(index.documents.items())
    ]


def admin_allowed(expected: str, given: str | None) -> bool:
    """The admin token matches (constant-time); with no admin token set nothing does."""
    return bool(expected) and bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def safe_file_name(name: str) -> str:
    """An uploaded file's name as it may be written into the corpus folder: the last path part only, no hidden
    file, no control or reserved characters, an article extension. `safe_file_name("C:\\\\tmp\\\\Новость.txt")`
    is "Новость.txt"; "../.env", "a.exe" and "con\\x00.txt" raise DocumentError."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if (
        not base or base.startswith(".") or len(base.encode()) > MAX_NAME_BYTES
        or any(ch in FORBIDDEN_CHARS or unicodedata.category(ch).startswith("C") for ch in base)
        or PurePath(base).suffix not in ARTICLE_SUFFIXES or PurePath(base).stem.strip(". ") == ""
    ):
        raise DocumentError(text("bad_file_name", name=name, suffixes=", ".join(sorted(ARTICLE_SUFFIXES))))
    return base


def check_article(name: str, data: bytes, limit: int) -> None:
    """Refuse an upload that is too large or that ingestion cannot read, before it reaches the corpus folder."""
    if len(data) > limit:
        raise DocumentTooLargeError(text("file_too_large", name=name, limit=limit))
    with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            load_document(path, Path(tmp))
        except BadFileError as e:
            raise DocumentError(text("unreadable_file", problem=e)) from None


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Write `folder/name` so that nobody (a build, the watch) ever reads half a file: a hidden temporary file
    in the same folder, flushed to disk, then renamed over the name."""
    target = folder / name
    part = folder / f".{name}.{uuid.uuid4().hex[:8]}.part"
    try:
        with open(part, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def upload(live: Live, name: str, data: bytes) -> tuple[str, bool]:
    """Add (or replace) an article and index it; (its file name, True if it replaced one)."""
    name = safe_file_name(name)
    check_article(name, data, live.settings.upload_max_bytes)
    replaced = (live.settings.corpus_dir / name).exists()
    write_atomically(live.settings.corpus_dir, name, data)
    live.reindex(f"upload {name}")
    return name, replaced


def corpus_file(live: Live, name: str) -> Path:
    """The corpus file an article name (as listed) stands for; DocumentError if there is none inside the folder."""
    root = live.settings.corpus_dir.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.suffix not in ARTICLE_SUFFIXES or any(
        p.startswith(".") for p in path.relative_to(root).parts
    ):
        raise NoSuchDocumentError(text("no_such_article", name=name))
    return path


def delete(live: Live, name: str) -> None:
    """Remove an article from the corpus folder and from the index."""
    path = corpus_file(live, name)
    if set(live.rag.index.documents) <= {path.relative_to(live.settings.corpus_dir.resolve()).as_posix()}:
        raise DocumentError(text("last_article", name=name))
    path.unlink()
    live.reindex(f"delete {name}")


def admin_token(request: Request, settings: Settings) -> None:
    """Refuse a write to the articles without the admin token (403), or when no admin token is set."""
    if not settings.admin_token:
        raise HTTPException(403, text("admin_off"))
    given = request.headers.get("x-admin-token") or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not admin_allowed(settings.admin_token, given):
        raise HTTPException(403, text("admin_wrong"))


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


def routes(live: Live, settings: Settings, token: list, error_model: type) -> APIRouter:
    """GET, POST and DELETE /api/documents; `token` documents the access token, the Guard checks it."""
    router = APIRouter()
    admin_errors = {403: {"model": error_model, "description": "No admin token, or RAG_ADMIN_TOKEN is not set."}}

    @router.get("/api/documents", response_model=DocumentsOut, tags=["documents"], summary="Indexed articles", dependencies=token)
    def list_documents() -> dict:
        """Every article of the build serving: file, title, date (and further metadata), chunks, when indexed."""
        rag = live.rag
        return {"build": rag.index.version, "admin": bool(settings.admin_token), "documents": listing(rag.index)}

    @router.post("/api/documents", response_model=DocumentChanged, status_code=201, tags=["documents"], summary="Add an article",
                 responses={**admin_errors, 413: {"model": error_model}, 422: {"model": error_model}}, openapi_extra=UPLOAD_BODY)
    async def add_document(request: Request) -> dict:
        """Upload one article (multipart field `file`; .txt or .md) with `X-Admin-Token`: it is written into the
        corpus folder (replacing one of the same name) and indexed; the answer comes once it is served."""
        admin_token(request, settings)
        limit = settings.upload_max_bytes
        if int(request.headers.get("content-length") or 0) > limit + 64 * 1024:  # the form's own bytes are small
            raise DocumentTooLargeError(text("file_too_large", name="…", limit=limit))
        form = await request.form(max_files=1, max_fields=4)
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise HTTPException(422, "file: send the article as the multipart field `file`")
        data = await part.read(limit + 1)
        name, replaced = await run_in_threadpool(upload, live, part.filename or "", data)
        return {"file": name, "replaced": replaced, "build": live.rag.index.version, "documents": len(live.rag.index.documents)}

    @router.delete("/api/documents/{name:path}", response_model=DocumentChanged, tags=["documents"], summary="Remove an article",
                   responses={**admin_errors, 404: {"model": error_model}, 422: {"model": error_model}})
    def delete_document(name: str, request: Request) -> dict:
        """Remove an article (its `file` as listed) from the corpus folder and the index, with `X-Admin-Token`."""
        admin_token(request, settings)
        delete(live, name)
        return {"file": name, "build": live.rag.index.version, "documents": len(live.rag.index.documents)}

    return router
