//! The secret rules: each a stable id, the keywords a line must hold before its regex is
//! tried, the regex (its first capture group, or the whole match, is the secret), and for
//! the generic rule a minimum entropy.

/// One rule as written (built in, or `[[gates.NAME.rules]]`).
#[derive(Debug, Clone)]
pub(crate) struct RuleSpec {
    pub(crate) id: String,
    pub(crate) regex: String,
    pub(crate) keywords: Vec<String>,
    /// Minimum Shannon entropy (bits per character) of the secret.
    pub(crate) entropy: Option<f64>,
}

/// `(id, keywords, regex, entropy)`.
type Builtin = (&'static str, &'static [&'static str], &'static str, Option<f64>);

const BUILTIN: &[Builtin] = &[
    (
        "aws-access-key-id",
        &["AKIA", "ASIA", "ABIA", "ACCA"],
        r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b",
        None,
    ),
    (
        "aws-secret-access-key",
        &["aws", "AWS"],
        r#"(?i)aws.{0,20}?(?:secret|key).{0,20}?[\s'"]*[=:][\s'"]*([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        Some(3.5),
    ),
    ("github-pat", &["ghp_"], r"\b(ghp_[A-Za-z0-9]{36})\b", None),
    (
        "github-fine-grained-pat",
        &["github_pat_"],
        r"\b(github_pat_[A-Za-z0-9_]{82})\b",
        None,
    ),
    ("github-oauth", &["gho_"], r"\b(gho_[A-Za-z0-9]{36})\b", None),
    (
        "github-app-token",
        &["ghu_", "ghs_"],
        r"\b((?:ghu|ghs)_[A-Za-z0-9]{36})\b",
        None,
    ),
    ("github-refresh-token", &["ghr_"], r"\b(ghr_[A-Za-z0-9]{36})\b", None),
    (
        "gitlab-token",
        &["glpat-", "gldt-", "glrt-"],
        r"\b((?:glpat|gldt|glrt)-[A-Za-z0-9_\-]{20,})\b",
        None,
    ),
    ("slack-token", &["xox"], r"\b(xox[baprs]-[A-Za-z0-9\-]{10,})\b", None),
    (
        "slack-webhook",
        &["hooks.slack.com"],
        r"(https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,})",
        None,
    ),
    (
        "stripe-live-key",
        &["sk_live_", "rk_live_"],
        r"\b((?:sk|rk)_live_[A-Za-z0-9]{20,})\b",
        None,
    ),
    (
        "private-key",
        &["PRIVATE KEY"],
        r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----",
        None,
    ),
    (
        "gcp-service-account",
        &["service_account"],
        r#"("type"\s*:\s*"service_account")"#,
        None,
    ),
    ("google-api-key", &["AIza"], r"\b(AIza[0-9A-Za-z_\-]{35})\b", None),
    ("npm-token", &["npm_"], r"\b(npm_[A-Za-z0-9]{36})\b", None),
    (
        "pypi-token",
        &["pypi-AgEIcHlwaS5vcmc"],
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
        None,
    ),
    (
        "openai-key",
        &["T3BlbkFJ", "sk-proj-"],
        r"\b(sk-(?:proj-[A-Za-z0-9_\-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))",
        None,
    ),
    (
        "anthropic-key",
        &["sk-ant-"],
        r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,})",
        None,
    ),
    ("twilio-api-key", &["SK"], r"\b(SK[0-9a-f]{32})\b", None),
    (
        "sendgrid-key",
        &["SG."],
        r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})\b",
        None,
    ),
    (
        "jwt",
        &["eyJ"],
        r"\b(eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})",
        None,
    ),
    (
        "url-credentials",
        &["://"],
        r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:@/'"]+:([^\s:@/'"]{3,})@[^\s/'"]+"#,
        None,
    ),
    (
        "generic-secret",
        &[
            "password",
            "PASSWORD",
            "Password",
            "passwd",
            "secret",
            "SECRET",
            "Secret",
            "token",
            "TOKEN",
            "Token",
            "api_key",
            "API_KEY",
            "apikey",
            "apiKey",
            "ApiKey",
            "api-key",
            "access_key",
            "ACCESS_KEY",
            "auth_key",
            "private_key",
            "PRIVATE_KEY",
            "client_secret",
            "CLIENT_SECRET",
        ],
        // The name ends with the word (or adds `_key`, `_base`, `_value`: `SECRET_KEY_BASE`),
        // so `token_type` and `secret_len` are not secrets; the value stops at brackets, so
        // a call is not one either (see `looks_like_code`).
        r#"(?i)[a-z0-9_.\-]*(?:password|passwd|secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key|private[_\-]?key)(?:[_.\-]?(?:key|base|value|str|string)){0,2}["']?\s*(?:=|:=|:|=>)\s*["'`]?([^\s"'`;,()\[\]{}<>]{8,})"#,
        Some(3.5),
    ),
];

/// The built-in rules.
pub(crate) fn builtin() -> Vec<RuleSpec> {
    BUILTIN
        .iter()
        .map(|(id, keywords, regex, entropy)| RuleSpec {
            id: (*id).to_owned(),
            regex: (*regex).to_owned(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            entropy: *entropy,
        })
        .collect()
}
