"""Whether a value is a secret, and how strong a finding it makes.

`secret(name, value)` judges the value of variable `name` in three steps (docs/reconcile.md
"Secrets" and rule PP111 explain them to users):

1. Not a finding: an empty value or a switch (`true`, `0`), a reference (`${X}`, `$(X)`,
   `/run/secrets/...`, a file's path such as `/certs/client.key`, `file:`, `vault:`,
   `secretref:`, `secretKeyRef`, a cloud secret store's name or ARN), a placeholder that
   asks to be replaced (`changeme`, `<your-key>`, `xxxx`, `your_api_key_here`, a value made
   only of words such as `password`, `secret`, `example`, or starting with an imperative
   such as `change...`, `replace...`, `enter...`, upper-case words joined by underscores
   (`GOOGLE_API_KEY_VAL`, `YOUR_TOKEN_HERE`), the variable's own name with at most a
   `_VAL`/`_VALUE`/`_HERE` suffix, an elided value (`atm_...`), or marked as an example:
   `AKIAIOSFODNN7EXAMPLE`, `sample-password`), and any value of a variable that *names*
   a secret (`DB_PASSWORD_FILE`, `JWT_SECRET_NAME`, `*_SECRET_REF`, `*_KEY_ID`) or is a
   switch about one (`MYSQL_RANDOM_ROOT_PASSWORD`, `MYSQL_ALLOW_EMPTY_PASSWORD`) unless the
   value itself has a credential's shape.
2. A literal (`LITERAL`): any other value of a secret-named variable (`*_PASSWORD`,
   `*_SECRET`, `*_TOKEN`, `*_KEY`, `dbPassword`), and a secret inside any value: the password
   of a URL (`postgres://u:V@h`), a key as a URL's user (a Sentry DSN), a password in a
   connection string (`Password=V;`, JDBC `?password=V`, libpq `password=V`), a secret
   option (`--db-password=V`), an authorization header (`Bearer V`, `X-Api-Key: V`). The
   default of `${X:-V}` is judged as the value (it is committed too).
3. A credential (`CREDENTIAL`): a literal found in step 2 that is a high-entropy string,
   and, in any variable, a known credential format (AWS access keys, GitHub, GitLab, Slack,
   Stripe, Google, npm and SendGrid tokens, JSON Web Tokens, private-key blocks) or a long
   high-entropy token.

Every pattern runs in time linear in the value (no pattern can backtrack over a long run).
Nothing here ever returns or keeps the value itself.
"""

from __future__ import annotations

import math
import re

LITERAL = "literal"  # a committed literal: hygiene
CREDENTIAL = "credential"  # a real credential's shape: an incident

# --- names ---------------------------------------------------------------------------------

_SECRET_WORDS = r"SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|KEY|APIKEY|CREDENTIALS?|AUTH"
SECRET_NAME = re.compile(
    rf"(?:^|_)(?:{_SECRET_WORDS})$|(?:^|_)(?:SECRET|PASSWORD|PASSWD)_",  # SECRET_KEY_BASE too
    re.IGNORECASE,
)
# A variable that names, locates or describes a secret rather than holding it.
_NAMING = re.compile(
    rf"(?:^|_)(?:{_SECRET_WORDS})_(?:\w+_)?(?:NAME|REF|REFERENCE|ARN|ID|FILE|PATH|DIR|LOCATION|"
    r"VERSION|LENGTH|LEN|TTL|EXPIRY|EXPIRES|EXPIRATION|ENABLED|REQUIRED|HEADER|FIELD|PARAM|"
    r"NAMESPACE|URL|URI|HOST|PORT|POLICY|RESET|MIN|MAX|ALGORITHM|ALG|ROUNDS|TYPE|KIND|MODE|"
    r"PROVIDER|STORE|BACKEND|ENDPOINT|SOURCE|FORMAT|PREFIX|SUFFIX|KEY_ID|SECONDS|MINUTES|HOURS|"
    r"DAYS|TIMEOUT|LIFETIME|DURATION)$",
    re.IGNORECASE,
)
# A switch about a secret (`MYSQL_RANDOM_ROOT_PASSWORD`, `MYSQL_ALLOW_EMPTY_PASSWORD`): its
# value says whether, not what.
_SWITCH = re.compile(
    r"(?:^|_)(?:RANDOM|ALLOW_EMPTY|ALLOW_BLANK|SKIP|GENERATE|DISABLE|REQUIRE|USE)_(?:\w+_)?"
    rf"(?:{_SECRET_WORDS})$",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[.\- :]")


def normal_name(name: str) -> str:
    """`name` as an upper-case variable name: `--dbPassword` and `db.password` -> DB_PASSWORD."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", name.lstrip("-"))).upper()


def secret_name(name: str) -> bool:
    """True when a variable, key or flag name (DB_PASSWORD, --db-password, --dbPassword,
    -Dapp.password) names a secret it holds."""
    normal = normal_name(name)
    return (
        SECRET_NAME.search(normal) is not None
        and _NAMING.search(normal) is None
        and _SWITCH.search(normal) is None
    )


# --- values that are no secret -------------------------------------------------------------

NOT_A_SECRET = frozenset(
    {"", "true", "false", "yes", "no", "on", "off", "none", "null", "0", "1", "y", "n", "t", "f"}
)
REFERENCE = re.compile(
    r"^(?:\$\{?[A-Za-z_]|\$\(|%\(|/run/secrets/|/var/run/secrets/|file:|vault:|secretref:|"
    r"op://|sm://|awssm:|ssm:|arn:aws:(?:secretsmanager|ssm|kms):|@Microsoft\.KeyVault\(|"
    r"projects/[^/\s]+/secrets/|gcp-secret:|azure-keyvault:|keyvault:)",
    re.IGNORECASE,
)
_REFERENCE_ANYWHERE = re.compile(r"secretKeyRef|valueFrom|\{\{[^{}]*\}\}")
# A file that holds the secret (`/certs/client.key`, `./secrets/db.txt`, `~/.ssh/id_ed25519`)
_PATH = re.compile(r"(?:~|\.{1,2})?/(?:[\w.\-]+/)+[\w.\-]*|(?:~|\.{1,2})?/[\w\-]+\.\w{1,5}")
PLACEHOLDER = re.compile(
    r"^(?:<[^<>]*>|\[[^\[\]]*\]|\{\{[^{}]*\}\}|(?:x+|\*+|\.+|-+|#+|_+|0+)"
    r"|(?:your|my|enter|insert|put|add)[-_ ].*|[^\n]*[-_ ]here"
    r"|change[-_ ]?(?:me|it|this)|replace[-_ ]?(?:me|this)?|placeholder|example|dummy|todo|tbd"
    r"|fixme|redacted)$",
    re.IGNORECASE,
)
# Words a placeholder is made of ("default_password", "api-key-example", "SECRET_VALUE").
_PLACEHOLDER_WORDS = frozenset((
    "password", "passwd", "pass", "pwd", "secret", "secrets", "token", "tokens", "key", "keys",
    "api", "apikey", "auth", "changeme", "change", "me", "example", "examples", "sample",
    "dummy", "test", "testing", "placeholder", "value", "default", "here", "your", "my", "the",
    "a", "an", "some", "foo", "bar", "baz", "fake", "mock", "todo", "redacted", "empty",
    "blank", "string", "insert", "this", "that", "it", "please", "super",
))  # fmt: skip
# A first word that asks the reader to act ("changePassword", "setYourToken").
_IMPERATIVES = frozenset((
    "change", "replace", "set", "enter", "insert", "put", "add", "your", "fill", "generate",
    "update", "provide", "use", "type", "paste", "specify", "define", "edit", "modify",
    "please",
))  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# One token (no URL, assignment or spaces): "example" in it marks the whole value
_BARE = re.compile(r"[^\s=:;@?&]+")


# A documented example (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`,
# `sk_live_xxxxxxxxxxxxxxxx`) has a credential's shape and is none: gitleaks' allowlist too.
_EXAMPLE = re.compile(r"example|sample|dummy|fake|placeholder|x{6,}|X{6,}|0{8,}", re.IGNORECASE)


def reference(value: str) -> bool:
    """True when `value` refers to a secret held elsewhere (`${X}`, `vault:...`)."""
    text = value.strip().strip("\"'")
    return (
        REFERENCE.match(text) is not None
        or _REFERENCE_ANYWHERE.search(text) is not None
        or _PATH.fullmatch(text) is not None
    )


# Upper-case words joined by underscores (`GOOGLE_API_KEY_VAL`, `YOUR_TOKEN`): a name
# standing for the value a script or the reader fills in, as no generated secret is.
_SHOUTED = re.compile(r"[A-Z]+(?:_[A-Z]+)+")
# An elided value: at most a vendor prefix, then an ellipsis (`atm_...`, `sk-…`).
_ELIDED = re.compile(r"[\w.\-]{0,12}?(?:\.{3}|\u2026)")


def placeholder(value: str) -> bool:
    """True when `value` asks to be replaced: `changeme`, `<your-key>`, `xxxx`,
    `your_api_key_here`, `default-password`, `changeRunnerAuthToken`, `GOOGLE_API_KEY_VAL`,
    `atm_...`."""
    text = value.strip().strip("\"'")
    if PLACEHOLDER.match(text) or (_BARE.fullmatch(text[:200]) and _EXAMPLE.search(text[:200])):
        return True
    if _SHOUTED.fullmatch(text[:200]) or (len(text) <= 16 and _ELIDED.fullmatch(text)):
        return True
    words = [word.lower() for word in _WORD.findall(text[:200])]
    if not words or len(text) > 200:
        return False
    if words[0] in _IMPERATIVES:
        return True
    return all(word in _PLACEHOLDER_WORDS or set(word) == {"x"} for word in words)


# `${DB_PASSWORD:-p4ssw0rd}`: the default is a committed literal, judged as the value
_DEFAULTED = re.compile(r"\$\{[A-Za-z_]\w*:?[-=](.*)\}", re.DOTALL)


def literal(value: str) -> bool:
    """True unless the value is empty, a switch, a reference or a placeholder (of a
    `${X:-default}`, its default is judged)."""
    text = value.strip()
    default = _DEFAULTED.fullmatch(text)
    if default is not None:
        return literal(default.group(1))
    return not (text.lower() in NOT_A_SECRET or reference(text) or placeholder(text))


# --- credential shapes ---------------------------------------------------------------------

_FORMATS = (
    ("an AWS access key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("a GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}"),
    ("a GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,64}"),
    ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,255}"),
    ("a Stripe live key", r"\b[sr]k_live_[A-Za-z0-9]{16,255}"),
    ("a Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("a SendGrid key", r"\bSG\.[\w\-]{22}\.[\w\-]{43}"),
    ("a JSON Web Token", r"\beyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,4096}\."),
    ("a private key", r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY( BLOCK)?-----"),
)
_FORMAT = re.compile("|".join(f"(?P<f{i}>{pattern})" for i, (_, pattern) in enumerate(_FORMATS)))


def credential_format(value: str) -> str | None:
    """The known credential format found in `value` ("an AWS access key"), or None. A
    documented example (`AKIAIOSFODNN7EXAMPLE`) is none."""
    for found in _FORMAT.finditer(value):
        if found.lastgroup is not None and _EXAMPLE.search(found.group()) is None:
            return _FORMATS[int(found.lastgroup[1:])][0]
    return None


_BASE64 = re.compile(r"[A-Za-z0-9+/=_\-]+")
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DIGEST = re.compile(r"^(?:sha\d+|md5|blake\d*):", re.IGNORECASE)


def entropy(text: str) -> float:
    """Shannon entropy of `text` in bits per character."""
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values()) if size else 0.0


def high_entropy(text: str, *, strict: bool = False) -> bool:
    """True for a random-looking token: at least 20 characters of hex (3.0 bits per character)
    or base64 (4.0). `strict` (a variable whose name says nothing): at least 32 base64
    characters mixing upper case, lower case and digits at 4.5 bits, as detect-secrets'
    Base64 limit; hex digests and UUIDs are not taken then."""
    if len(text) < 20 or len(text) > 4096 or _UUID.fullmatch(text) or _EXAMPLE.search(text):
        return False
    if strict:
        mixed = not text.isalpha() and text.lower() != text and text.upper() != text
        return len(text) >= 32 and bool(_BASE64.fullmatch(text)) and mixed and entropy(text) >= 4.5
    if _HEX.fullmatch(text):
        return entropy(text) >= 3.0
    return bool(_BASE64.fullmatch(text)) and entropy(text) >= 4.0


# --- secrets inside a value ----------------------------------------------------------------

# scheme://user:PASSWORD@ and scheme://KEY@ (the scheme starts a word: linear)
URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,40}://([^/@:\s]*)(?::([^/@\s]*))?@"
)
# NAME=V and NAME: V inside a value (`--db-password=V`, `password=V` of libpq, `?password=V`
# of JDBC, `;Pwd=V;` of ADO.NET, `X-Api-Key: V`): the name starts a word (linear).
_ASSIGNED = re.compile(
    r"(?<![\w.\-])(-{0,2}[A-Za-z_][\w.\-]{0,80})(\s{0,3}=\s{0,3}|:\s{1,3})"
    r"('[^'\n]*'|\"[^\"\n]*\"|[^\s'\";&,]+)"
)
_AUTHORIZATION = re.compile(
    r"(?<![\w\-])(?:(?:authorization|proxy-authorization):\s*(?:(?:bearer|basic|token|digest)\s+)?"
    r"|bearer\s+)([^\s'\",;]+)",
    re.IGNORECASE,
)
_CONNECTION_WORDS = frozenset({"PASSWORD", "PWD", "PASS", "PASSWD", "SSLPASSWORD"})


class Secret:
    """A secret found in a value: what it is (never the value) and whether it has a real
    credential's shape (`strength` is LITERAL or CREDENTIAL)."""

    __slots__ = ("kind", "strength")

    def __init__(self, kind: str, strength: str) -> None:
        self.kind = kind
        self.strength = strength

    @property
    def credential(self) -> bool:
        return self.strength == CREDENTIAL

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and (self.kind, self.strength) == (
            other.kind,
            other.strength,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.strength))

    def __repr__(self) -> str:
        return f"Secret({self.kind!r}, {self.strength!r})"


def secret(name: str, value: str | None) -> Secret | None:
    """The secret the value of variable `name` holds (the strongest), or None."""
    if value is None:
        return None
    text = value.strip()
    default = _DEFAULTED.fullmatch(text)
    if default is not None:  # `${X:-default}`: the default is committed
        return secret(name, default.group(1))
    if text.lower() in NOT_A_SECRET or reference(text) or placeholder(text):
        return None
    if _repeats(name, text):
        return None
    shape = credential_format(text)
    if shape is not None:
        return Secret(shape, CREDENTIAL)
    found = embedded(text)
    if found is not None:
        return found
    unquoted = text.strip("\"'")
    if secret_name(name):
        return Secret("a literal secret value", _strength(unquoted))
    if high_entropy(unquoted, strict=True) and not _DIGEST.match(unquoted):
        return Secret("a high-entropy string", CREDENTIAL)
    return None


def _repeats(name: str, value: str) -> bool:
    """Whether a value is its variable's own name, alone or with a placeholder's suffix
    (`GOOGLE_API_KEY=google-api-key-value`): a stand-in a script substitutes."""
    own = re.sub(r"[^a-z0-9]", "", name.lower())
    said = re.sub(r"[^a-z0-9]", "", value.lower())
    return len(own) >= 4 and said.startswith(own) and said[len(own) :] in _NAME_SUFFIXES


_NAME_SUFFIXES = frozenset({"", "val", "value", "here", "placeholder", "goeshere"})


def embedded(text: str) -> Secret | None:
    """A secret inside a longer value (a URL's password, a connection string's password,
    a secret option, an authorization header), the strongest found, or None."""
    found: list[Secret] = []
    if "@" in text:
        found.extend(_userinfo(text))
    if "=" in text or ":" in text:
        found.extend(_assigned(text))
    if "earer" in text or "uthorization" in text:
        found.extend(_authorization(text))
    if not found:
        return None
    return next((item for item in found if item.credential), found[0])


def _strength(value: str) -> str:
    return CREDENTIAL if credential_format(value) or high_entropy(value) else LITERAL


def _userinfo(text: str) -> list[Secret]:
    found = []
    for match in URL_USERINFO.finditer(text):
        user, password = match.group(1), match.group(2)
        if password is not None and literal(password):
            found.append(Secret("a password inside a URL", _strength(password)))
        elif password is None and user and _strength(user) == CREDENTIAL:
            found.append(Secret("a key inside a URL", CREDENTIAL))  # Sentry DSN, token@host
    return found


def _assigned(text: str) -> list[Secret]:
    found = []
    for match in _ASSIGNED.finditer(text):
        name, separator, value = match.group(1), match.group(2), match.group(3).strip("\"'")
        if secret_name(name) and literal(value):
            before = text[match.start() - 1] if match.start() else ""
            found.append(Secret(_assigned_kind(name, separator, before), _strength(value)))
    return found


def _assigned_kind(name: str, separator: str, before: str) -> str:
    """What `NAME=V` inside a value is: a connection string's password (`;Password=V`,
    libpq `password=V`, JDBC `?password=V`), a URL's query parameter (`?token=V`), an option
    (`--db-password=V`) or a header (`X-Api-Key: V`)."""
    if name.startswith("-"):
        return "a secret option"
    if separator.strip() == ":":
        return "a secret header value"
    if normal_name(name) in _CONNECTION_WORDS:
        return "a password inside a connection string"
    return "a secret inside a URL's query" if before in "?&" and before else "a secret setting"


def _authorization(text: str) -> list[Secret]:
    return [
        Secret("an authorization header value", _strength(match.group(1)))
        for match in _AUTHORIZATION.finditer(text)
        if literal(match.group(1))
    ]


# --- keys in messages ----------------------------------------------------------------------

_QUOTABLE_KEY = re.compile(r"[\w.\-/+ ]{1,64}")


def quotable_key(key: str) -> bool:
    """Whether a message may quote `key`: a short name (letters, digits, `_.-/+` and
    spaces) that holds no secret. A key holding a URL, a `:`, a hash or a token is not."""
    return _QUOTABLE_KEY.fullmatch(key) is not None and secret("", key) is None


def unquoted_key(key: str) -> str:
    """How a message names a key it may not quote: by its shape."""
    return f"(not shown: {len(key)} characters)"
