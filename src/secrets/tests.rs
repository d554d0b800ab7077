//! Each rule on secrets of its real shape and on lookalikes. The secrets are generated
//! here, never written out, so this file holds none.

use super::*;

use super::fake::{ALNUM, HEX, UPPER_DIGITS, fake};

fn rules_found(text: &str) -> Vec<String> {
    Scanner::with(&[])
        .unwrap()
        .scan(text, None)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn every_key_rule_finds_its_secret() {
    let aws_secret = fake(ALNUM, 40, 1);
    let cases: Vec<(String, &str)> = vec![
        (format!("key = AKIA{}", fake(UPPER_DIGITS, 16, 2)), "aws-access-key-id"),
        (format!("aws_secret_access_key = {aws_secret}"), "aws-secret-access-key"),
        (format!("token: ghp_{}", fake(ALNUM, 36, 3)), "github-pat"),
        (
            format!("GH=github_pat_{}", fake(ALNUM, 82, 4)),
            "github-fine-grained-pat",
        ),
        (format!("gho_{}", fake(ALNUM, 36, 5)), "github-oauth"),
        (format!("ghs_{}", fake(ALNUM, 36, 6)), "github-app-token"),
        (format!("ghr_{}", fake(ALNUM, 36, 7)), "github-refresh-token"),
        (format!("glpat-{}", fake(ALNUM, 20, 8)), "gitlab-token"),
        (
            format!("SLACK=xoxb-{}-{}", fake("0123456789", 12, 9), fake(ALNUM, 24, 9)),
            "slack-token",
        ),
        (
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                fake(UPPER_DIGITS, 8, 1),
                fake(UPPER_DIGITS, 8, 2),
                fake(ALNUM, 24, 3)
            ),
            "slack-webhook",
        ),
        (format!("stripe: sk_live_{}", fake(ALNUM, 24, 10)), "stripe-live-key"),
        ("-----BEGIN RSA PRIVATE KEY-----".to_owned(), "private-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----".to_owned(), "private-key"),
        (
            r#"{"type": "service_account", "project_id": "p"}"#.to_owned(),
            "gcp-service-account",
        ),
    ];
    expect_found(cases);
}

#[test]
fn every_token_rule_finds_its_secret() {
    let cases: Vec<(String, &str)> = vec![
        (format!("maps: AIza{}", fake(ALNUM, 35, 11)), "google-api-key"),
        (
            format!("//registry.npmjs.org/:_authToken=npm_{}", fake(ALNUM, 36, 12)),
            "npm-token",
        ),
        (
            format!("password = pypi-AgEIcHlwaS5vcmc{}", fake(ALNUM, 60, 13)),
            "pypi-token",
        ),
        (format!("OPENAI_API_KEY=sk-proj-{}", fake(ALNUM, 48, 14)), "openai-key"),
        (
            format!("sk-{}T3BlbkFJ{}", fake(ALNUM, 20, 15), fake(ALNUM, 20, 16)),
            "openai-key",
        ),
        (
            format!("ANTHROPIC_API_KEY=sk-ant-api03-{}", fake(ALNUM, 90, 17)),
            "anthropic-key",
        ),
        (format!("twilio SK{}", fake(HEX, 32, 18)), "twilio-api-key"),
        (
            format!("SG.{}.{}", fake(ALNUM, 22, 19), fake(ALNUM, 43, 20)),
            "sendgrid-key",
        ),
        (
            format!(
                "Authorization: Bearer eyJ{}.eyJ{}.{}",
                fake(ALNUM, 20, 21),
                fake(ALNUM, 30, 22),
                fake(ALNUM, 40, 23)
            ),
            "jwt",
        ),
        (
            format!(
                "DATABASE_URL=postgres://app:{}@db.internal:5432/app",
                fake(ALNUM, 16, 24)
            ),
            "url-credentials",
        ),
        (format!("db_password = \"{}\"", fake(ALNUM, 20, 25)), "generic-secret"),
        (format!("  apiKey: '{}'", fake(ALNUM, 32, 26)), "generic-secret"),
    ];
    expect_found(cases);
}

fn expect_found(cases: Vec<(String, &str)>) {
    for (line, rule) in cases {
        let found = rules_found(&line);
        assert!(found.iter().any(|r| r == rule), "{rule} in {line:?}: {found:?}");
    }
}

#[test]
fn examples_placeholders_and_lookalikes_are_not_findings() {
    let lookalikes = [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE".to_owned(),
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        "token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_owned(),
        "password = ${DB_PASSWORD}".to_owned(),
        "api_key: <your-api-key-here>".to_owned(),
        "secret = \"aaaaaaaaaaaaaaaaaaaa\"".to_owned(),
        "password = changeme123".to_owned(),
        // Low entropy: a word, not a secret.
        "password = correcthorse".to_owned(),
        // Hashes, UUIDs and integrity strings carry no secret-like name.
        format!("sha256: {}", fake(HEX, 64, 30)),
        "id: 123e4567-e89b-12d3-a456-426614174000".to_owned(),
        format!("integrity sha512-{}==", fake(ALNUM, 86, 31)),
        format!("<img src=\"data:image/png;base64,{}\">", fake(ALNUM, 120, 32)),
        "url = https://example.com/path?x=1".to_owned(),
        "postgres://user:${PASSWORD}@host/db".to_owned(),
        // Allowed inline.
        format!("token = ghp_{} # gate:allow-secret", fake(ALNUM, 36, 33)),
        format!("token = ghp_{} # pragma: allowlist secret", fake(ALNUM, 36, 34)),
        format!("token = ghp_{} // gitleaks:allow", fake(ALNUM, 36, 35)),
    ];
    for line in lookalikes {
        assert!(rules_found(&line).is_empty(), "{line:?}: {:?}", rules_found(&line));
    }
}

#[test]
fn an_aws_key_id_and_secret_near_each_other_are_one_pair() {
    let text = format!(
        "[default]\naws_access_key_id = AKIA{}\naws_secret_access_key = {}\n",
        fake(UPPER_DIGITS, 16, 40),
        fake(ALNUM, 40, 41)
    );
    assert_eq!(rules_found(&text), ["aws-key-pair"]);
}

#[test]
fn only_the_added_lines_are_scanned_when_asked() {
    let text = format!("a\nghp_{}\nb\n", fake(ALNUM, 36, 50));
    let scanner = Scanner::with(&[]).unwrap();
    assert_eq!(scanner.scan(&text, Some(&[LineRange { first: 1, last: 1 }])).len(), 0);
    assert_eq!(scanner.scan(&text, Some(&[LineRange { first: 2, last: 3 }])).len(), 1);
}

#[test]
fn custom_rules_and_masking() {
    let custom = RuleSpec {
        id: "internal-token".to_owned(),
        regex: r"\b(itk_[a-z0-9]{24})\b".to_owned(),
        keywords: vec!["itk_".to_owned()],
        entropy: None,
    };
    let scanner = Scanner::with(&[custom]).unwrap();
    let secret = format!("itk_{}", fake("abcdefghijklmnopqrstuvwxyz0123456789", 24, 60));
    let found = scanner.scan(&format!("x = {secret}\n"), None);
    assert_eq!((found[0].rule.as_str(), found[0].column), ("internal-token", 5));
    assert_eq!(mask(&secret), "itk_… (28 characters)");
    assert_ne!(fingerprint("r", "a", &secret), fingerprint("r", "b", &secret));
    assert!(!fingerprint("r", "a", &secret).contains(&secret));
}

#[test]
fn the_masker_hides_secret_environment_values_and_rule_matches() {
    let token = fake(ALNUM, 30, 70);
    let pat = format!("ghp_{}", fake(ALNUM, 36, 71));
    let masker = Masker::new(
        [
            ("GITHUB_TOKEN".to_owned(), token.clone()),
            ("SHORT_TOKEN".to_owned(), "abc".to_owned()),
            ("HOME".to_owned(), "/home/someone".to_owned()),
            ("DEPLOY_HOOK".to_owned(), "hook-value-123".to_owned()),
        ]
        .into_iter(),
        &["DEPLOY_HOOK".to_owned()],
    );
    let shown = masker.apply(&format!(
        "token {token} short abc home /home/someone hook hook-value-123 pat {pat}\n"
    ));
    assert_eq!(shown, "token *** short abc home /home/someone hook *** pat ***\n");
}

#[test]
fn one_pass_over_the_text_finds_what_scanning_each_line_finds() {
    let scanner = Scanner::with(&[]).unwrap();
    let lines = [
        format!("key = AKIA{}", fake(UPPER_DIGITS, 16, 2)),
        String::new(),
        format!("aws_secret_access_key = {}\r", fake(ALNUM, 40, 1)),
        "plain text, nothing here".to_owned(),
        format!("a: ghp_{} b: glpat-{}", fake(ALNUM, 36, 3), fake(ALNUM, 20, 8)),
        format!("token: ghp_{} # gate:allow-secret", fake(ALNUM, 36, 4)),
        format!("password = \"{}\"", fake(ALNUM, 24, 11)),
        format!("sk_live_{}", fake(ALNUM, 24, 10)),
    ];
    for ending in ["\n", ""] {
        let text = lines.join("\n") + ending;
        let mut each = Vec::new();
        for (index, line) in text.lines().enumerate() {
            scanner.scan_line(line, u32::try_from(index + 1).unwrap(), &mut each);
        }
        pair_aws(&mut each);
        assert!(each.len() >= 5, "{each:?}");
        assert_eq!(scanner.scan(&text, None), each);
        let only = [LineRange { first: 3, last: 5 }];
        let mut wanted = Vec::new();
        for (index, line) in text.lines().enumerate().filter(|(i, _)| (2..=4).contains(i)) {
            scanner.scan_line(line, u32::try_from(index + 1).unwrap(), &mut wanted);
        }
        pair_aws(&mut wanted);
        assert_eq!(scanner.scan(&text, Some(&only)), wanted);
    }
}

/// Lines of real code (Python's standard library, Rust crates) that name a secret-like
/// variable but hold no secret: a call, a reference, a name that only starts with one.
#[test]
fn code_that_names_a_secret_is_not_one() {
    let code = [
        "        token = get_unstructured(value)",
        "        token = random.randrange(sys.maxsize)",
        "                passwd = fallback_getpass(prompt, stream)",
        "            password = bytes(memoryview(password))",
        "                        'password': config.get(server, 'password'),",
        "    token_type = 'quoted-string'",
        "        obs_local_part.token_type = 'invalid-obs-local-part'",
        "    self.password = settings.DATABASE_PASSWORD",
        "    let secret_len = secret_bytes.len();",
        "    api_key: Option<String> = os.environ.get(\"API_KEY\")",
        "const tokenStream = tokenizer.tokenize(sourceText);",
        "    let token: cpuid_aes_sha::InitToken = cpuid_aes_sha::init();",
        "            Token::RecursiveSuffix => (self.tokens.len() - 1, true),",
        "            ('http://joe:password@proxy.example.com:3128',",
    ];
    for line in code {
        assert!(rules_found(line).is_empty(), "{line:?}: {:?}", rules_found(line));
    }
    let secrets = [
        format!("password = \"{}\"", fake(ALNUM, 16, 40)),
        format!("API_TOKEN={}", fake(ALNUM, 24, 41)),
        format!("  client_secret: '{}'", fake(ALNUM, 32, 42)),
        format!("DB_PASSWORD: {}", fake(ALNUM, 24, 43)),
        format!("SECRET_KEY_BASE={}", fake(ALNUM, 40, 44)),
        format!("config.password = \"{}\";", fake(ALNUM, 20, 45)),
    ];
    for line in &secrets {
        assert_eq!(rules_found(line), ["generic-secret"], "{line:?}");
    }
}
