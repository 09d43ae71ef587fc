"""Keeping secrets out of anything agentguard writes (the audit log, requests, messages).

Bearer tokens and Authorization headers, passwords in URLs and DSNs, `PGPASSWORD=…`, `-p<password>`,
`--password X`, AWS access keys and other well-known token shapes are replaced by `[redacted]`.
"""

from __future__ import annotations

REDACTED = "[redacted]"
SECRET_HEADERS = ("authorization:", "proxy-authorization:", "x-api-key:", "api-key:", "project-access-token:",
                  "x-auth-token:", "private-token:", "x-vault-token:", "cookie:", "x-amz-security-token:")
SECRET_OPTIONS = {"--password", "--pass", "-a", "--token", "--api-key", "--access-token", "--secret", "--auth",
                  "--oauth2-bearer", "--2fa-code", "--client-secret", "--private-key", "--proxy-user"}
USER_OPTIONS = {"-u", "--user", "-U"}  # user:password for curl and friends: only the password goes
SECRET_VARS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "AUTH",
               "CREDENTIAL", "SESSION_KEY")
TOKEN_PREFIXES = ("AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-",
                  "sk-", "sk_live_", "rk_live_", "pk_live_", "AIza", "ya29.", "eyJ")


def redact_text(text: str) -> str:
    """Redact secrets inside one string (an argument, a header, a URL, SQL)."""
    out = text
    low = out.lower()
    for header in SECRET_HEADERS:
        k = low.find(header)
        while k >= 0:
            end = _line_end(out, k + len(header))
            out = out[:k + len(header)] + " " + REDACTED + out[end:]
            low = out.lower()
            k = low.find(header, k + len(header) + len(REDACTED) + 1)
    out = _redact_url_passwords(out)
    out = _redact_assignments(out)
    out = _redact_tokens(out)
    out = _redact_bearer(out)
    return out


def _line_end(text: str, start: int) -> int:
    for k in range(start, len(text)):
        if text[k] in "\n\r'\"":
            return k
    return len(text)


def _redact_url_passwords(text: str) -> str:
    """scheme://user:password@host → scheme://user:[redacted]@host"""
    out = []
    i = 0
    while True:
        k = text.find("://", i)
        if k < 0:
            out.append(text[i:])
            return "".join(out)
        at = -1
        j = k + 3
        while j < len(text) and text[j] not in "/ \t\n'\"?#":
            if text[j] == "@":
                at = j
            j += 1
        colon = text.find(":", k + 3, at) if at > 0 else -1
        if at > 0 and colon > 0:
            out.append(text[i:colon + 1] + REDACTED)
            i = at
        else:
            out.append(text[i:k + 3])
            i = k + 3


def _redact_assignments(text: str) -> str:
    """NAME=value where NAME says it is a secret (PGPASSWORD=…, API_TOKEN=…), also password=… in DSNs."""
    out = []
    for token in _split_keep(text):
        name, eq, value = token.partition("=")
        bare = name.lstrip("-").upper()
        if eq and value and any(s in bare for s in SECRET_VARS):
            out.append(f"{name}={REDACTED}")
        else:
            out.append(token)
    return "".join(out)


def _split_keep(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    for ch in text:
        if ch in " \t\n&;?,'\"":
            if cur:
                parts.append("".join(cur))
                cur = []
            parts.append(ch)
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    return parts


def _redact_tokens(text: str) -> str:
    out = []
    for token in _split_keep(text):
        if len(token) >= 16 and token.startswith(TOKEN_PREFIXES):
            out.append(REDACTED)
        else:
            out.append(token)
    return "".join(out)


def _redact_bearer(text: str) -> str:
    low = text.lower()
    for word in ("bearer ", "token ", "basic "):
        k = low.find(word)
        while k >= 0:
            start = k + len(word)
            end = start
            while end < len(text) and text[end] not in " \t\n'\"":
                end += 1
            if end - start >= 6 and text[start:end] != REDACTED:
                text = text[:start] + REDACTED + text[end:]
                low = text.lower()
            k = low.find(word, start + 1)
    return text


def redact_argv(argv: list[str] | tuple[str, ...]) -> list[str]:
    """Redact an argv: values of secret options, mysql's -pPASSWORD, and secrets inside arguments."""
    out: list[str] = []
    hide_next = False
    user_next = False
    for arg in argv:
        if hide_next and not arg.startswith("-"):
            out.append(REDACTED)
            hide_next = False
            continue
        if user_next and ":" in arg:
            out.append(arg.split(":", 1)[0] + ":" + REDACTED)
            user_next = False
            continue
        hide_next = user_next = False
        name = arg.split("=", 1)[0]
        if name in USER_OPTIONS:
            out.append(arg)
            user_next = True
            continue
        if name in SECRET_OPTIONS:
            if "=" in arg:
                out.append(f"{name}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
            continue
        if arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--"):
            out.append("-p" + REDACTED)  # mysql -pSECRET
            continue
        out.append(redact_text(arg))
    return out


def redact_env(env: dict[str, str] | tuple[tuple[str, str], ...]) -> dict[str, str]:
    items = env.items() if isinstance(env, dict) else env
    out = {}
    for k, v in items:
        upper = k.upper()
        if any(s in upper for s in SECRET_VARS) or upper in ("PGPASSWORD", "MYSQL_PWD", "REDISCLI_AUTH"):
            out[k] = REDACTED
        else:
            out[k] = redact_text(v)
    return out
