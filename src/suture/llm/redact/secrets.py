"""Secrets: detect-secrets' own detectors run in-process, plus token shapes they miss in logs.

detect-secrets is used through its plugin API (`default_settings`, `get_plugins`, `get_filters`,
`analyze_line`), which the upstream package and the `bc-detect-secrets` fork share. `scan_line`
is not used: it runs in "eager" ad-hoc mode and reports every word of a line.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from suture.errors import ToolError

from .rules import Text, rule
from .spans import Kind, Span

_CREDENTIAL_KEY = (
    r"(?i:passw(?:or)?d|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|credential)[\w.-]*[\"']?[ \t]*(?::|=|:=|=>)[ \t]*"
)

# Values after a credential key that are not credentials: literals, references, placeholders.
_NOT_A_VALUE = re.compile(
    r"(?i)^(?:none|null|nil|true|false|undefined|required|optional|str|string|bytes|int"
    r"|secretstr|redacted|\*+|x+|\.\.\.|<[^>]*>|\[[A-Z]+_\d+\]|\$\{?[\w.]+\}?|\{\{.*\}\}"
    r"|[\d.]+|os\.\S*|env\S*|settings\.\S*|self\.\S*|config\.\S*|.*\(.*)$"
)


def _unquoted_credential(value: str) -> bool:
    return not _NOT_A_VALUE.match(value) and re.search(r"[^A-Za-z_.]", value) is not None


# Shapes of credentials that appear in free text (logs, tracebacks, env dumps) where
# detect-secrets' quote- and assignment-based detectors do not look. The value is group `v*`
# when there is one, else the whole match.
_TOKENS = [
    # PEM private keys, whole block; a truncated block runs over its headers and base64 lines.
    rule(Kind.SECRET, r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
         r"(?:[\s\S]{0,20000}?-----END[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
         r"|(?:\s*[\w-]+:[^\n]*)*(?:(?:\s|\\n)+(?:E[ ]+)?[A-Za-z0-9+/=]{16,})*)"),
    rule(Kind.SECRET, r"PuTTY-User-Key-File-\d:[^\n]*", "putty"),
    rule(Kind.SECRET, r"\bsk-ant-[A-Za-z0-9_-]{10,}", "sk-ant-"),
    rule(Kind.SECRET, r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", "sk-"),
    rule(Kind.SECRET, r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{10,}", "k_live_|k_test_"),
    rule(Kind.SECRET, r"\bgh[pousr]_[A-Za-z0-9]{20,}", "gh"),
    rule(Kind.SECRET, r"\bgithub_pat_[A-Za-z0-9_]{20,}", "github_pat_"),
    rule(Kind.SECRET, r"\bglpat-[A-Za-z0-9_-]{20,}", "glpat-"),
    rule(Kind.SECRET, r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
         "akia|asia|agpa|aida|aroa|anpa|anva|aipa"),
    rule(Kind.SECRET, r"\bAIza[0-9A-Za-z_-]{35}", "aiza"),
    rule(Kind.SECRET, r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "xox"),
    rule(Kind.SECRET, r"\bnpm_[A-Za-z0-9]{30,}", "npm_"),
    rule(Kind.SECRET, r"\bpypi-[A-Za-z0-9_-]{50,}", "pypi-"),
    rule(Kind.SECRET, r"\bhf_[A-Za-z0-9]{30,}", "hf_"),
    rule(Kind.SECRET, r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", "eyj"),
    # Credentials inside a URL: scheme://user:PASSWORD@host
    rule(Kind.SECRET, r"[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@\"'<>]{1,100}:"
         r"(?P<v>[^\s@/\"'<>]{1,200})@", "://"),
    rule(Kind.SECRET, r"(?i:\bauthorization\b)[\"']?\s*[:=]\s*[\"']?"
         r"(?:(?i:bearer|basic|token|digest|apikey)\s+)?(?P<v>[^\s\"',;]{8,})", "authorization"),
    rule(Kind.SECRET, r"(?i:\bbearer)\s+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)", "bearer"),
    # key = value where the key names a credential; quoted values may hold spaces.
    rule(Kind.SECRET, _CREDENTIAL_KEY + r"(?:\"(?P<v>[^\"\n]{3,200})\"|'(?P<v2>[^'\n]{3,200})')",
         "passw|pwd|secret|token|key|credential", lambda v: not _NOT_A_VALUE.match(v)),
    # Unquoted values are often code (`max_tokens=max_tokens`, `key=self.key`) or prose
    # ("secrets: credentials ..."); a credential has a digit or a symbol in it.
    rule(Kind.SECRET, _CREDENTIAL_KEY + r"(?P<v>[^\s\"'`,;()\[\]{}]{4,200})",
         "passw|pwd|secret|token|key|credential", _unquoted_credential),
]

# Words that make a hex string on the same line look like a credential rather than a git
# sha or a digest (which are evidence worth keeping).
_CREDENTIAL_WORD = re.compile(r"(?i)passw|secret|token|api[_-]?key|private|credential|auth")
_HASH_LENGTHS = frozenset({*range(7, 13), 40, 64, 128})  # short and full git shas, sha256/512
_HEX = re.compile(r"[0-9a-fA-F]+")
_ENTROPY_PLUGINS = frozenset({"HexHighEntropyString", "Base64HighEntropyString"})

# A name no file has: the fork's private-key plugin reads the file it is told about.
_FILENAME = "<suture redact>.txt"
# The IP detector is superseded by the PHI IP rule, which also keeps loopback addresses.
_SKIPPED_PLUGINS = frozenset({"IPPublicDetector"})
# Filters that only make sense for files in a repository, or that honour in-code allowlist
# pragmas (an allowlisted test secret is still not sent to a third party).
_FILTER_PARAMS = frozenset({"secret", "line", "plugin", "context"})


def find_secrets(text: str, scanned: Text | None = None) -> Iterator[Span]:
    """Spans of credentials in `text`: token shapes first, then detect-secrets per line."""
    scanned = scanned or Text(text)
    for each in _TOKENS:
        yield from each.find(scanned)
    yield from _detector().find(scanned)


class _DetectSecrets:
    """detect-secrets' default plugins and heuristic filters, loaded once per process."""

    def __init__(self) -> None:
        try:
            from detect_secrets.settings import default_settings, get_filters, get_plugins
            from detect_secrets.util.inject import call_function_with_arguments
        except ImportError as exc:  # pragma: no cover - detect-secrets is a core dependency
            raise ToolError(
                f"detect-secrets could not be imported for secret redaction ({exc}).",
                hint="Install it into suture's environment: pip install detect-secrets",
            ) from exc
        self._call = call_function_with_arguments
        with default_settings():
            self._plugins = [p for p in get_plugins() if type(p).__name__ not in _SKIPPED_PLUGINS]
            self._filters = [
                f for f in get_filters() if set(f.injectable_variables) <= _FILTER_PARAMS
            ]
        self._keywords = _keyword_gate()

    def find(self, scanned: Text) -> Iterator[Span]:
        """Spans of every value a plugin reports, wherever it occurs on its line."""
        seen: dict[str, list[str]] = {}
        offset = 0
        for line in scanned.text.splitlines(keepends=True):
            values = seen.get(line)
            if values is None:
                values = seen[line] = self._scan_line(line.rstrip("\r\n"))
            for value in values:
                at = line.find(value)
                while at != -1:
                    yield Span(Kind.SECRET, offset + at, offset + at + len(value))
                    at = line.find(value, at + len(value))
            offset += len(line)

    def _scan_line(self, line: str) -> list[str]:
        values: list[str] = []
        if not line.strip():
            return values
        # The keyword detector is the slow one; it can only match next to one of its words.
        keywords = self._keywords is None or self._keywords.search(line.lower()) is not None
        for plugin in self._plugins:
            if not keywords and type(plugin).__name__ == "KeywordDetector":
                continue
            for secret in plugin.analyze_line(filename=_FILENAME, line=line, line_number=1):
                value = secret.secret_value
                if value and self._keep(value, line, plugin):
                    values.append(value)
        return values

    def _keep(self, value: str, line: str, plugin: Any) -> bool:
        if (
            type(plugin).__name__ in _ENTROPY_PLUGINS
            and len(value) in _HASH_LENGTHS
            and _HEX.fullmatch(value)
            and not _CREDENTIAL_WORD.search(line)
        ):
            return False
        return not any(
            self._call(f, secret=value, line=line, plugin=plugin, context=None)
            for f in self._filters
        )


def _keyword_gate() -> re.Pattern[str] | None:
    """Every pattern of the keyword detector contains one of its (lowercase) denylist words."""
    try:
        from detect_secrets.plugins import keyword
    except ImportError:  # pragma: no cover
        return None
    denylist = getattr(keyword, "DENYLIST", None)
    return re.compile("|".join(f"(?:{w})" for w in denylist)) if denylist else None


_lock = threading.Lock()
_loaded: list[_DetectSecrets] = []


def _detector() -> _DetectSecrets:
    # Loading swaps detect-secrets' global settings for a moment, so it happens once, locked.
    with _lock:
        if not _loaded:
            _loaded.append(_DetectSecrets())
        return _loaded[0]
