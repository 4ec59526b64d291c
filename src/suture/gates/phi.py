"""The `phi` gate: HIPAA Safe Harbor identifiers committed to the repository, never shown.

Every text file git knows of (tracked, or untracked and not ignored) is scanned with the
redactor's patterns plus the validators in `phi_scan`: fixtures, test data, logs, configs, SQL
seeds, CSV, FHIR JSON and notebooks (cell sources and text outputs). A finding shows a masked
value (`***-**-6789`, `j***@example.org`) and a masked copy of its line. Binary files are
counted, oversized ones reported as notes; neither is read.

A finding's fingerprint is an HMAC-SHA256, under the team's secret key (`.suture/keys/phi.key`,
setting `key:`, made on first use), of its path, kind and normalised value: it survives line
moves and `suture baseline` can accept it, yet a baseline or report holding it gives away nothing
(the old unkeyed hash could be searched from a masked SSN's last four digits). The key must be
shared like any secret: a CI job without it would fingerprint differently.

Baselines from before the key: the gate does not migrate them (that would keep the guessable
fingerprints); a finding the baseline accepted under the old scheme is reported as new, its fix
hint says so, and the summary counts them: review them, then `suture baseline` re-accepts them.
When the key is missing but the baseline accepts findings like the current ones under some key,
the gate stops with an error rather than make a new key that would disown the baseline.
"""

from __future__ import annotations

import bisect
import fnmatch
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from suture import __version__
from suture.errors import SutureError, ToolError
from suture.gates import files, phi_scan
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.gates.phi_scan import DEFAULT_KINDS, LABELS, Hit, PhiKind
from suture.llm.redact import Redactor
from suture.model import Finding, Level
from suture.pipeline import baseline as baseline_mod
from suture.pipeline import findings as findings_mod

ALLOW_COMMENT = "suture: allow-phi"
TOOL = "suture-phi"
CWE = "CWE-359"  # Exposure of Private Personal Information to an Unauthorized Actor
HELP_URI = "https://www.hhs.gov/hipaa/for-professionals/special-topics/de-identification/index.html"
FIX_HINT = (
    "replace it with synthetic data (e.g. Faker with a fixed seed, 555-0100..0199 phone numbers, "
    "example.org emails); if the value is already synthetic, add a regex matching it or its path "
    f"to the phi gate's `allowlist`, or end the line with `# {ALLOW_COMMENT}`; if it is real PHI, "
    "also remove it from git history and follow your breach-notification procedure"
)
# Files about the code's own authors: their names and emails there are not patients'.
AUTHORSHIP_FILES = ("AUTHORS*", "CONTRIBUTORS*", "CODEOWNERS", ".mailmap", "MAINTAINERS*",
                    "pyproject.toml", "setup.py", "setup.cfg", "package.json", "*.gemspec",
                    "CITATION.cff", "LICENSE*", "LICENCE*", "COPYING*", "NOTICE*", "*.cdx.json",
                    "*.spdx.json", "*.spdx")
# Binary formats never read; those that commonly hold patient data get a note each.
_BINARY_SUFFIXES = frozenset(str.split(
    ".png .jpg .jpeg .gif .bmp .ico .webp .tif .tiff .svgz .zip .gz .tgz .bz2 .xz .7z .tar .whl "
    ".egg .jar .war .so .dylib .dll .exe .bin .o .a .pyc .pyd .class .woff .woff2 .ttf .otf .eot "
    ".mp3 .mp4 .mov .avi .wav .flac .ogg .webm"
))
_DATA_SUFFIXES = frozenset(str.split(
    ".dcm .dicom .sqlite .sqlite3 .db .xlsx .xls .parquet .pdf .docx .doc .sav .dta .feather "
    ".h5 .hdf5 .pkl .pickle .npy .npz .avro .orc"
))
_LAYOUTS = {".csv": "csv", ".tsv": "tsv", ".sql": "sql"}
_SNIFF = 8192
_SNIPPET_WIDTH = 200
_HASH_ROUNDS = 20_000  # the old, unkeyed scheme: still computed to recognise old baselines
DEFAULT_KEY = ".suture/keys/phi.key"
_KEY_BYTES = 32
_KEY_RE = re.compile(r"^[0-9a-f]{64,}$")


class PhiConfig(GateConfig):
    """Settings of the `phi` gate."""

    paths: list[str] = Field(
        default_factory=lambda: ["."],
        description="Folders or files (repo-relative) to scan; default the whole repository.",
    )
    kinds: list[PhiKind] = Field(
        default_factory=lambda: [k for k in PhiKind if k in DEFAULT_KINDS],
        description="Identifier kinds to report; default every kind except `url` (repositories "
        "are full of links that identify no one).",
    )
    allowlist: list[str] = Field(
        default_factory=list,
        description="Regexes of values or repo-relative paths that are known to be synthetic "
        "(e.g. `^tests/fixtures/`, `MRN-TEST-\\d+`); a finding whose value or path matches one "
        "is not reported.",
    )
    max_file_mb: float = Field(
        5.0, gt=0, description="Larger files are not read; each is reported as a note."
    )
    max_per_file: int = Field(
        200, ge=1, description="Findings listed per file; the rest are counted in one finding."
    )
    key: str = Field(
        DEFAULT_KEY,
        description="The team's secret fingerprint key (64 hex digits; repo-relative or absolute "
        "path, `~` allowed), created on first use with mode 0600. Fingerprints are keyed HMACs "
        "of the values, so the baseline reveals nothing; give CI the same key (e.g. from a "
        "secret) or every accepted finding comes back as new. Keep it out of git.",
    )

    @field_validator("allowlist")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regex: {exc}") from exc
        return patterns


@dataclass
class _Tally:
    """What one run read and skipped; only counts and paths, never file contents."""

    scanned: int = 0
    bytes: int = 0
    binary: list[str] = field(default_factory=list)
    oversized: list[str] = field(default_factory=list)
    allowed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    legacy: int = 0      # accepted by the baseline under the old, unkeyed fingerprint
    other_key: int = 0   # accepted by the baseline, it seems, under another key
    created_key: str = ""


@dataclass(frozen=True)
class _Scan:
    """What every file of one run is scanned with."""

    kinds: frozenset[PhiKind]
    allow: list[re.Pattern[str]]
    limit: int
    secret: bytes
    # Where fingerprints' values go when an old baseline may need recognising (else None).
    values: dict[str, tuple[str, PhiKind, str]] | None


class PhiGate(Gate):
    """Finds HIPAA Safe Harbor identifiers in the repository's text files and masks them."""

    kind = "phi"
    description = "HIPAA Safe Harbor identifiers (SSN, MRN, names, birth dates...) in the repo"
    Config = PhiConfig

    config: PhiConfig

    def tool_version(self, ctx: GateContext) -> str:
        """suture's version and a digest of the rules, so a rule change invalidates the cache."""
        return f"{TOOL} {__version__} (rules {_rules_digest()})"

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """The key's id and the baseline: fingerprints and their notes depend on both."""
        key = load_key(self.key_path(ctx.root))
        baseline = _baseline_path(ctx.root)
        try:
            accepted = hashlib.sha256(baseline.read_bytes()).hexdigest()[:16]
        except OSError:
            accepted = "none"
        return f"key {key.key_id if key else 'none'}; baseline {accepted}"

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Every file the gate would look at."""
        return self._targets(ctx.root)

    def key_path(self, root: Path) -> Path:
        """Where the fingerprint key is: the `key` setting, relative to the repository."""
        return root / Path(os.path.expanduser(self.config.key))

    def run(self, ctx: GateContext) -> GateReport:
        """Scan each file and report every identifier not allowed by comment or allowlist."""
        key_file = self.key_path(ctx.root)
        key = load_key(key_file)
        secret = key.secret if key is not None else secrets.token_bytes(_KEY_BYTES)
        accepted = _accepted(ctx.root, self.name)
        # Fingerprint -> (path, kind, normal value), kept only to recognise old baseline entries.
        values: dict[str, tuple[str, PhiKind, str]] | None = {} if accepted else None
        tally = _Tally()
        findings: list[Finding] = []
        allow = [re.compile(p) for p in self.config.allowlist]
        kinds = frozenset(self.config.kinds)
        limit = int(self.config.max_file_mb * 1_000_000)
        timeout = self.config.timeout or ctx.timeout
        deadline = time.monotonic() + timeout
        scan = _Scan(kinds, allow, limit, secret, values)
        for path in self._targets(ctx.root):
            if time.monotonic() > deadline:
                # The scan runs in suture's own process, so it stops itself rather than be killed.
                raise ToolError(
                    f"phi scan took longer than {timeout:g}s ({tally.scanned} file(s), "
                    f"{tally.bytes / 1e6:.1f} MB scanned)",
                    hint="exclude generated or vendored folders with `exclude:`, or raise the "
                    "phi gate's `timeout:` in suture.yml",
                )
            rel = path.relative_to(ctx.root).as_posix()
            findings += self._scan_path(path, rel, scan, tally)
        findings.sort(key=lambda f: (f.path or "", f.line or 0, f.column or 0, f.rule_id))
        check = _BaselineCheck()
        if accepted and values is not None:
            findings, check = _against_baseline(ctx.root, findings, values, accepted, key_file)
        if key is None:
            if check.other_key:
                raise ToolError(
                    f"the phi fingerprint key {key_file} is missing, but the baseline accepts "
                    f"{check.other_key} finding(s) like the current ones under a key",
                    hint=f"copy the team's phi key to {key_file} (in CI, from a secret) or point "
                    "the phi gate's `key:` at it; to start over with a new key, delete the phi "
                    "entries from the baseline, run again, and review before `suture baseline`",
                )
            key = create_key(key_file, secret, ctx.root)
            tally.created_key = str(key_file)
        tally.legacy, tally.other_key = check.legacy, check.other_key
        return GateReport(
            findings=tuple(findings), summary=_summary(findings, tally),
            metrics={"files_scanned": float(tally.scanned), "bytes_scanned": float(tally.bytes),
                     "phi": float(sum(tally.kinds.values())),
                     "binary_skipped": float(len(tally.binary)),
                     "oversized_skipped": float(len(tally.oversized))},
            log=_log(tally),
        )

    def _targets(self, root: Path) -> list[Path]:
        for entry in self.config.paths:
            if not (root / entry).exists():
                raise ToolError(
                    f"phi gate path {entry!r} does not exist in {root}",
                    hint="fix `paths:` of the phi gate in suture.yml (repo-relative folders)",
                )
        return files.select(root, under=self.config.paths, exclude=self.config.exclude)

    def _scan_path(self, path: Path, rel: str, scan: _Scan, tally: _Tally) -> list[Finding]:
        kinds, limit = scan.kinds, scan.limit
        suffix = path.suffix.lower()
        if suffix in _BINARY_SUFFIXES:
            tally.binary.append(rel)
            return []
        try:
            size = path.stat().st_size
            if size > limit:
                tally.oversized.append(rel)
                return [_note(rel, f"not scanned for PHI: {size / 1e6:.3g} MB is over the "
                                   f"{self.config.max_file_mb:g} MB limit (`max_file_mb`)")]
            data = path.read_bytes()
        except OSError as exc:
            return [_note(rel, f"not scanned for PHI: cannot read it ({exc.strerror})")]
        text = None if suffix in _DATA_SUFFIXES else decode(data)
        if text is None:
            tally.binary.append(rel)
            if suffix in _DATA_SUFFIXES:
                return [_note(rel, f"binary {suffix} file not scanned for PHI: check it by hand "
                                   "or keep such data out of the repository")]
            return []
        tally.scanned += 1
        tally.bytes += len(data)
        if _is_authorship(rel):
            kinds = kinds - {PhiKind.NAME, PhiKind.EMAIL}
        pieces = notebook_pieces(text) if suffix == ".ipynb" else None
        if pieces is None:
            pieces = [_Piece(text, "", None)]
        found: list[Finding] = []
        file_lines: list[int] = []
        room = _Room(self.config.max_per_file)
        for piece in pieces:
            hits = phi_scan.scan(piece.text, kinds, _LAYOUTS.get(suffix, ""))
            if hits and piece.place is not None and not file_lines:
                file_lines = line_starts(text)
            for finding in _findings(rel, piece, file_lines, hits, scan, room):
                if finding is None:
                    tally.allowed += 1
                else:
                    tally.kinds[finding.rule_id] += 1
                    found.append(finding)
        if room.over:
            tally.kinds["phi/more"] += room.over
            found.append(_more(rel, room.over, self.config.max_per_file))
        return found


def decode(data: bytes) -> str | None:
    """The text of a file, or None when it is binary (NUL bytes, or mostly not text)."""
    head = data[:_SNIFF]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\0" in head:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > len(head) // 50:
        return None
    # Legacy-encoded text (Latin-1, Windows-1252) still holds names worth finding.
    return data.decode("cp1252", "replace")


@dataclass(frozen=True)
class _Piece:
    """A stretch of text to scan: a whole file, or one notebook cell's source or output.

    For a notebook piece, `place` maps its text back into the file: the start of each list
    element in the text, and where that element's JSON string begins in the file.
    """

    text: str
    where: str
    place: tuple[list[int], list[int | None], bool] | None


def notebook_pieces(raw: str) -> list[_Piece] | None:
    """Cell sources and text outputs of a Jupyter notebook, or None if it is not one."""
    try:
        notebook = json.loads(raw)
    except ValueError:
        return None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None
    locator = _Locator(raw)
    pieces: list[_Piece] = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            continue
        pieces.append(_piece(cell.get("source"), f"cell {number}", locator))
        for output in cell.get("outputs") or []:
            for chunk in _output_texts(output):
                pieces.append(_piece(chunk, f"cell {number} output", locator))
    return [p for p in pieces if p.text]


def _output_texts(output: Any) -> Iterator[Any]:
    if not isinstance(output, dict):
        return
    if "text" in output:
        yield output["text"]
    if isinstance(output.get("traceback"), list):
        yield [f"{line}\n" for line in output["traceback"] if isinstance(line, str)]
    data = output.get("data")
    if isinstance(data, dict):
        for mime, value in data.items():
            if mime.startswith("text/"):
                yield value


class _Locator:
    """Finds, in order, where each JSON-encoded string of a notebook sits in its file."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.cursor = 0

    def find(self, element: str) -> tuple[int | None, bool]:
        """Offset of the first character inside the string's quotes, and its escaping."""
        # Writers order a cell's keys differently (nbformat puts outputs before source), so
        # look ahead first, then from the top.
        for origin in (self.cursor, 0):
            for ascii_only in (False, True):
                encoded = json.dumps(element, ensure_ascii=ascii_only)
                at = self.raw.find(encoded, origin)
                if at != -1:
                    self.cursor = at + len(encoded)
                    return at + 1, ascii_only
        return None, False


def _piece(value: Any, where: str, locator: _Locator) -> _Piece:
    elements = value if isinstance(value, list) else [value]
    elements = [e for e in elements if isinstance(e, str)]
    starts, offsets, position = [], [], 0
    ascii_only = False
    for element in elements:
        starts.append(position)
        at, ascii_only = locator.find(element)
        offsets.append(at)
        position += len(element)
    return _Piece("".join(elements), where, (starts, offsets, ascii_only))


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each line."""
    return [0, *(m.end() for m in re.finditer("\n", text))]


@dataclass
class _Room:
    """How many more findings one file may list, and how many did not fit."""

    left: int
    over: int = 0


def _findings(rel: str, piece: _Piece, file_lines: list[int], hits: list[Hit],
              scan: _Scan, room: _Room) -> Iterator[Finding | None]:
    """A finding per hit, or None for a hit an allowlist entry or allow comment covers.

    Once `room` is used up, hits are only counted: a dump of patient records needs one fix, not
    a finding (and, to recognise an old baseline, a deliberately slow hash) per value.
    """
    if not hits:
        return
    text = piece.text
    starts = line_starts(text)
    by_line: dict[int, list[Hit]] = {}
    for hit in hits:
        by_line.setdefault(bisect.bisect_right(starts, hit.start) - 1, []).append(hit)
    for index, line_hits in by_line.items():
        begin = starts[index]
        end = text.find("\n", begin)
        end = len(text) if end == -1 else end
        if ALLOW_COMMENT in text[begin:end]:
            yield from (None for _ in line_hits)
            continue
        masked, spots = _masked_line(text, begin, end, line_hits) if room.left > 0 else ("", [])
        for number_on_line, hit in enumerate(line_hits):
            value = text[hit.start:hit.end]
            if any(p.search(value) or p.search(rel) for p in scan.allow):
                yield None
                continue
            if room.left <= 0:
                room.over += 1
                continue
            room.left -= 1
            spot = spots[number_on_line]
            number, column = _position(piece, hit.start, index, begin, file_lines)
            suffix = f" ({piece.where})" if piece.where else ""
            normal = phi_scan.normal(hit.kind, value)
            seed = fingerprint(rel, hit.kind, normal, scan.secret)
            if scan.values is not None:
                scan.values[seed] = (rel, hit.kind, normal)
            yield Finding(
                rule_id=f"phi/{hit.kind.value}", level=Level.ERROR, tool=TOOL,
                message=f"{LABELS[hit.kind]} {phi_scan.mask(hit.kind, value)} committed{suffix}",
                path=rel, line=number, column=column, cwe=CWE, help_uri=HELP_URI,
                fingerprint=seed, fix_hint=FIX_HINT,
                # Set here so the executor never quotes the raw line, which holds the value.
                snippet=_snippet(number, masked, spot),
            )


def _masked_line(text: str, begin: int, end: int, hits: list[Hit]) -> tuple[str, list[int]]:
    """The line with each (sorted) hit masked, and where each masked value starts in it."""
    parts: list[str] = []
    spots: list[int] = []
    at = begin
    for hit in hits:
        parts.append(text[at:hit.start])
        spots.append(sum(len(p) for p in parts))
        parts.append(phi_scan.mask(hit.kind, text[hit.start:min(hit.end, end)]))
        at = max(at, hit.end)
    parts.append(text[at:end])
    # Whatever the gate did not report (an allowlisted value, a secret) the redactor still hides.
    return Redactor().redact("".join(parts)), spots


def _snippet(number: int | None, masked: str, spot: int) -> str:
    if len(masked) > _SNIPPET_WIDTH:
        lo = max(0, min(spot - _SNIPPET_WIDTH // 3, len(masked) - _SNIPPET_WIDTH))
        masked = ("…" if lo else "") + masked[lo:lo + _SNIPPET_WIDTH] + (
            "…" if lo + _SNIPPET_WIDTH < len(masked) else "")
    return f"> {number} | {masked.strip()}" if number else masked.strip()


def _position(piece: _Piece, offset: int, index: int, begin: int,
              file_lines: list[int]) -> tuple[int | None, int]:
    """1-based (line, column) of a hit in the file; a notebook's line may be unknown."""
    if piece.place is None:
        return index + 1, offset - begin + 1
    starts, offsets, ascii_only = piece.place
    element = bisect.bisect_right(starts, offset) - 1
    at = offsets[element] if element >= 0 else None
    if at is None:
        return None, offset - begin + 1
    inner = piece.text[starts[element]:offset]
    raw = at + len(json.dumps(inner, ensure_ascii=ascii_only)) - 2
    line = bisect.bisect_right(file_lines, raw) - 1
    return line + 1, raw - file_lines[line] + 1


def fingerprint(path: str, kind: PhiKind, normal: str, secret: bytes) -> str:
    """HMAC-SHA256 under the team's key of path, kind and normalised value (`phi_scan.normal`).

    Stable across line moves, distinct per file and kind; without the key, knowing most of a
    value (a masked SSN's last four digits) does not help to find the rest.
    """
    message = f"{path}\0{kind.value}\0{normal}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def legacy_fingerprint(path: str, kind: PhiKind, normal: str) -> str:
    """The unkeyed fingerprint of suture before the phi key, to recognise old baselines."""
    return hashlib.sha256(f"{path}\0{kind.value}\0{_value_hash(kind, normal)}".encode()
                          ).hexdigest()[:32]


@lru_cache(maxsize=4096)
def _value_hash(kind: PhiKind, normal: str) -> str:
    salt = f"suture-phi/{kind.value}".encode()
    return hashlib.pbkdf2_hmac("sha256", normal.encode(), salt, _HASH_ROUNDS).hex()


@dataclass(frozen=True)
class PhiKey:
    """The team's fingerprint key and an id that names it without giving it away."""

    secret: bytes
    path: Path

    @property
    def key_id(self) -> str:
        """First 12 hex digits of a domain-separated SHA-256 of the key."""
        return hashlib.sha256(b"suture-phi-key-id\0" + self.secret).hexdigest()[:12]


def load_key(path: Path) -> PhiKey | None:
    """The key at `path`, or None when there is no file; a malformed key is a ToolError."""
    try:
        text = path.read_text(encoding="ascii").strip().lower()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read the phi fingerprint key {path}: "
                        f"{getattr(exc, 'strerror', None) or exc}",
                        hint="make it readable by you, or point the phi gate's `key:` at the "
                        "team's key") from exc
    if not _KEY_RE.match(text):
        raise ToolError(f"the phi fingerprint key {path} is not 64 or more hex digits",
                        hint="restore the team's key file; suture writes one with "
                        f"{_KEY_BYTES} random bytes when none exists")
    return PhiKey(bytes.fromhex(text[: len(text) // 2 * 2]), path)


def create_key(path: Path, secret: bytes, root: Path) -> PhiKey:
    """Write `secret` as the key at `path` (mode 0600); if another process won, refuse."""
    try:
        state = root / ".suture"
        if state in path.parents:
            from suture.store.db import ensure_state_dir  # keeps `.suture/` out of git

            ensure_state_dir(state)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, secret.hex().encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces: a key in use must not change under a baseline
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        raise ToolError(f"another suture process created the phi fingerprint key {path} while "
                        "this scan ran", hint="run the phi gate again") from None
    except (OSError, SutureError) as exc:
        raise ToolError(f"cannot create the phi fingerprint key {path}: "
                        f"{getattr(exc, 'strerror', None) or exc}",
                        hint="make its folder writable, or point the phi gate's `key:` at a "
                        "writable path") from exc
    return PhiKey(secret, path)


@dataclass(frozen=True)
class _BaselineCheck:
    """Findings the baseline seems to accept under another fingerprint than the current one."""

    legacy: int = 0
    other_key: int = 0


_LEGACY_HINT = (
    "the baseline accepted this under suture's old, unkeyed PHI fingerprint, which could be "
    "searched from the masked digits: it is reported again until re-accepted; check it is "
    "synthetic, then run `suture baseline` (or remove it). "
)


def _against_baseline(root: Path, found: list[Finding],
                      values: dict[str, tuple[str, PhiKind, str]],
                      accepted: dict[str, baseline_mod.BaselineEntry], key_file: Path
                      ) -> tuple[list[Finding], _BaselineCheck]:
    """Mark findings the baseline accepts under the old scheme or, it seems, another key.

    Fingerprints are compared as the executor will finish them (`pipeline.findings.finish`).
    """
    final = [f.fingerprint for f in findings_mod.finish(root, found)]
    pending = {i for i, f in enumerate(found)
               if f.fingerprint in values and final[i] not in accepted}
    if not pending:
        return found, _BaselineCheck()
    seeds = {found[i].fingerprint for i in pending}
    # Every finding with a pending seed, so the executor's per-seed counters come out the same.
    subset = [i for i, f in enumerate(found) if f.fingerprint in seeds]
    legacy = findings_mod.finish(root, [found[i].model_copy(update={
        "fingerprint": legacy_fingerprint(*values[found[i].fingerprint])}) for i in subset])
    legacy_hits = {i for i, f in zip(subset, legacy, strict=True)
                   if i in pending and f.fingerprint in accepted}
    current = set(final)
    unmatched = {(e.rule_id, e.path, e.message) for fp, e in accepted.items()
                 if fp not in current}
    other = {i for i in pending - legacy_hits
             if (found[i].rule_id, found[i].path, found[i].message[:200]) in unmatched}
    other_hint = (f"the baseline accepts a finding like this under another phi key: is "
                  f"{key_file} the team's key? ")
    out = [f.model_copy(update={"fix_hint": _LEGACY_HINT + (f.fix_hint or "")})
           if i in legacy_hits else
           f.model_copy(update={"fix_hint": other_hint + (f.fix_hint or "")}) if i in other else f
           for i, f in enumerate(found)]
    return out, _BaselineCheck(len(legacy_hits), len(other))


def _accepted(root: Path, stage: str) -> dict[str, baseline_mod.BaselineEntry]:
    """The baseline's phi entries for this stage (fingerprint -> entry); {} when none."""
    try:
        base = baseline_mod.load(_baseline_path(root))
    except SutureError:
        return {}  # a broken baseline is the executor's error to report
    return {fp: e for fp, e in base.findings.items()
            if e.stage == stage and e.rule_id.startswith("phi/") and e.rule_id != "phi/more"}


def _baseline_path(root: Path) -> Path:
    """The baseline the run applies: `baseline:` of the root's suture.yml, else the default."""
    from suture import config as config_mod  # config imports the gate registry, so only here

    try:
        return root / config_mod.load(root).settings.baseline
    except SutureError:
        return root / baseline_mod.DEFAULT_PATH


def _more(rel: str, count: int, listed: int) -> Finding:
    return Finding(
        rule_id="phi/more", level=Level.ERROR, tool=TOOL, path=rel, cwe=CWE, help_uri=HELP_URI,
        message=f"{count} more possible PHI identifier(s) in this file, not listed one by one "
                f"(`max_per_file` is {listed})",
        fingerprint=hashlib.sha256(f"{rel}\0more".encode()).hexdigest()[:32],
        fix_hint="this file looks like an export of patient records: delete it from the "
                 "repository (and its history) or replace it with synthetic data",
        snippet="",
    )


def _note(rel: str, message: str) -> Finding:
    return Finding(
        rule_id="phi/not-scanned", level=Level.NOTE, tool=TOOL, message=message, path=rel,
        fingerprint=hashlib.sha256(f"{rel}\0not-scanned".encode()).hexdigest()[:32],
        fix_hint="keep patient data out of the repository; exclude the file from the phi gate "
                 "(`exclude:`) once you have checked it, or raise `max_file_mb`",
        snippet="",
    )


def _is_authorship(rel: str) -> bool:
    base = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(base, pattern) for pattern in AUTHORSHIP_FILES)


def _summary(findings: list[Finding], tally: _Tally) -> str:
    phi = [f for f in findings if f.level is Level.ERROR]
    skipped = len(tally.binary) + len(tally.oversized)
    tail = f"; {skipped} binary or oversized file(s) not scanned" if skipped else ""
    if tally.legacy:
        tail += (f"; {tally.legacy} accepted only under the old unkeyed fingerprint: review, "
                 "then `suture baseline`")
    if tally.other_key:
        tail += f"; {tally.other_key} look accepted under another phi key"
    if phi:
        n_files = len({f.path for f in phi})
        total = sum(tally.kinds.values())
        return f"{total} possible PHI identifier(s) in {n_files} file(s){tail}"
    return f"no PHI in {tally.scanned} file(s){tail}"


def _log(tally: _Tally) -> str:
    """Counts and paths only: no file content ever reaches the log or the store."""
    kinds = ", ".join(f"{k}={n}" for k, n in sorted(tally.kinds.items())) or "none"
    lines = [
        f"{TOOL} scanned {tally.scanned} file(s), {tally.bytes / 1e6:.2f} MB",
        f"findings by rule: {kinds}; allowed by comment or allowlist: {tally.allowed}",
        f"binary, not scanned: {len(tally.binary)}"
        + (f" ({', '.join(tally.binary[:20])}{', ...' if len(tally.binary) > 20 else ''})"
           if tally.binary else ""),
        f"over the size limit, not scanned: {len(tally.oversized)}"
        + (f" ({', '.join(tally.oversized)})" if tally.oversized else ""),
    ]
    if tally.created_key:
        lines.append(f"created the phi fingerprint key {tally.created_key} (mode 0600): share it "
                     "with CI like any secret, or fingerprints there will differ")
    if tally.legacy:
        lines.append(f"{tally.legacy} finding(s) accepted by the baseline under the old, unkeyed "
                     "fingerprint: suture no longer honours it; review them, then run "
                     "`suture baseline` to accept them under the keyed one")
    if tally.other_key:
        lines.append(f"{tally.other_key} finding(s) look accepted by the baseline under another "
                     "phi key: check the gate's `key:` file is the team's")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def _rules_digest() -> str:
    from suture.llm.redact import phi as redact_phi
    from suture.llm.redact import rules, structured

    digest = hashlib.sha256()
    for module in (phi_scan, redact_phi, rules, structured):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]
