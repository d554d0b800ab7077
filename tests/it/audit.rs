//! The audit gate end to end against real OSV records (a trimmed copy in
//! `tests/fixtures/osv/`), and `gate audit --update` against a loopback server.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use crate::common::TestRepo;

fn fixture_osv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn cargo_lock(packages: &[(&str, &str)]) -> String {
    packages.iter().fold(String::new(), |text, (name, version)| {
        text + &format!(
            "[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n"
        )
    })
}

fn audit_gate(db: &std::path::Path, extra: &str) -> String {
    format!("[gates.deps]\nkind = \"audit\"\ndb = \"{}\"\n{extra}", db.display())
}

/// The advisory ids of the findings in a JSON report's audit gate.
fn found_ids(repo: &TestRepo) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(&repo.read("r.json")).unwrap();
    let mut ids: Vec<String> = report["gates"][0]["details"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["id"].as_str().unwrap(),
                f["package"].as_str().unwrap(),
                f["version"].as_str().unwrap()
            )
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn vulnerable_pins_are_found_and_fixed_ones_are_not() {
    let db = fixture_osv();
    let repo = TestRepo::new();
    repo.config(&audit_gate(&db, ""))
        .write(
            "Cargo.lock",
            cargo_lock(&[("smallvec", "1.6.0"), ("time", "0.1.43"), ("regex", "1.10.0")]),
        )
        .write(
            "svc/Cargo.lock",
            cargo_lock(&[("smallvec", "1.6.1"), ("time", "0.2.23")]),
        )
        .write("api/requirements.txt", "Jinja2==2.10\nrequests>=2\n")
        .write("web/requirements.txt", "jinja2==3.1.4\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all", "--report", "json=r.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        found_ids(&repo),
        [
            "PYSEC-2019-217 Jinja2 2.10",
            "PYSEC-2021-66 Jinja2 2.10",
            "RUSTSEC-2020-0071 time 0.1.43",
            "RUSTSEC-2021-0003 smallvec 1.6.0",
        ]
    );
    let report: serde_json::Value = serde_json::from_str(&repo.read("r.json")).unwrap();
    let diagnostics = report["gates"][0]["diagnostics"].as_array().unwrap();
    let smallvec = diagnostics.iter().find(|d| d["code"] == "RUSTSEC-2021-0003").unwrap();
    assert_eq!(smallvec["file"], "Cargo.lock");
    assert_eq!(smallvec["line"], 2, "the line of the package in its lockfile");
    let message = smallvec["message"].as_str().unwrap();
    assert!(
        message.contains("CVE-2021-25900") && message.contains("critical (9.8)") && message.contains("fixed in 1.6.1"),
        "{message}"
    );
    let jinja = diagnostics.iter().find(|d| d["code"] == "PYSEC-2019-217").unwrap();
    assert_eq!(
        (jinja["file"].as_str(), jinja["line"].as_u64()),
        (Some("api/requirements.txt"), Some(1))
    );
    assert!(
        run.stdout.contains("requests>=2` is not pinned"),
        "unpinned requirements are listed: {run:?}"
    );
}

#[test]
fn ignores_cover_aliases_need_reasons_and_expire() {
    let db = fixture_osv();
    let repo = TestRepo::new();
    let ignores = "ignore = [\n  { id = \"CVE-2021-25900\", reason = \"insert_many is never called\" },\n  { id = \"RUSTSEC-2020-0071\", reason = \"old\", expires = \"2020-01-01\" },\n  { id = \"RUSTSEC-1999-0001\", reason = \"stale entry\" },\n]\n";
    repo.config(&audit_gate(&db, ignores))
        .write("Cargo.lock", cargo_lock(&[("smallvec", "1.6.0"), ("time", "0.1.43")]))
        .commit_all("init");
    let run = repo.gate(&["check", "--all", "--report", "json=r.json", "-v"]);
    assert_eq!(found_ids(&repo), ["RUSTSEC-2020-0071 time 0.1.43"], "{run:?}");
    assert!(
        run.stdout
            .contains("RUSTSEC-2021-0003 in smallvec 1.6.0 is ignored: insert_many is never called"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("the ignore of RUSTSEC-2020-0071 expired on 2020-01-01"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("the ignore of RUSTSEC-1999-0001 matched no finding"),
        "{run:?}"
    );

    repo.config(&audit_gate(&db, "ignore = [{ id = \"RUSTSEC-2020-0071\" }]\n"));
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("gates.toml:4:11: the ignore of `RUSTSEC-2020-0071` has no `reason`"),
        "{run:?}"
    );
}

#[test]
fn severity_threshold_and_informational_notices() {
    let db = fixture_osv();
    let repo = TestRepo::new();
    repo.config(&audit_gate(&db, "min_severity = \"critical\"\n"))
        .write("Cargo.lock", cargo_lock(&[("time", "0.1.43"), ("cassandra", "0.8.0")]))
        .commit_all("init");
    let run = repo.gate(&["check", "--all", "--report", "json=r.json"]);
    assert_eq!(run.code, 0, "a medium finding and a notice are warnings here: {run:?}");
    assert_eq!(
        found_ids(&repo),
        ["RUSTSEC-2016-0006 cassandra 0.8.0", "RUSTSEC-2020-0071 time 0.1.43"]
    );
    let report: serde_json::Value = serde_json::from_str(&repo.read("r.json")).unwrap();
    assert!(
        report["gates"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["severity"] == "warning")
    );
    assert!(
        report["gates"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("unmaintained (informational)"))
    );

    repo.config(&audit_gate(
        &db,
        "min_severity = \"critical\"\ninformational = \"fail\"\n",
    ))
    .commit_all("strict");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn in_a_commit_it_runs_only_when_a_lockfile_changed_and_new_only_reports_what_the_change_added() {
    let db = fixture_osv();
    let repo = TestRepo::new();
    repo.config(&audit_gate(&db, "new_only = true\n"))
        .write("Cargo.lock", cargo_lock(&[("time", "0.1.43")]))
        .write("src/main.rs", "fn main() {}\n")
        .commit_all("init");
    repo.write("src/main.rs", "fn main() { }\n");
    repo.git(&["add", "src/main.rs"]);
    let run = repo.gate(&["check", "--staged"]);
    assert_eq!(run.status("deps"), "skipped", "{run:?}");

    repo.write("Cargo.lock", cargo_lock(&[("time", "0.1.43"), ("smallvec", "1.6.0")]));
    repo.git(&["add", "Cargo.lock"]);
    let run = repo.gate(&["check", "--staged", "--report", "json=r.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        found_ids(&repo),
        ["RUSTSEC-2021-0003 smallvec 1.6.0"],
        "time was vulnerable before this change"
    );
}

#[test]
fn corrupt_records_and_lockfiles_are_named() {
    let repo = TestRepo::new();
    let db = repo.bin().join("db");
    std::fs::create_dir_all(db.join("crates.io")).unwrap();
    std::fs::write(db.join("crates.io/BAD-1.json"), "{ not json").unwrap();
    repo.config(&audit_gate(&db, ""))
        .write("Cargo.lock", cargo_lock(&[("time", "0.1.43")]))
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.line("deps").contains("BAD-1.json` is not an OSV record"), "{run:?}");

    std::fs::remove_file(db.join("crates.io/BAD-1.json")).unwrap();
    repo.write("Cargo.lock", "[[package]\nname = 1");
    let run = repo.gate(&["audit", "--db", db.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("failed to read the lockfile `Cargo.lock`"),
        "{run:?}"
    );
    assert!(run.stderr.contains("line 1"), "{run:?}");
}

/// Serves `/crates.io/all.zip` with an `ETag`, answering 304 when the client already has it.
fn export_server(zip: Vec<u8>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                request.push_str(&line);
                line.clear();
            }
            seen.lock()
                .unwrap()
                .push(request.lines().next().unwrap_or_default().to_owned());
            let cached = request.to_ascii_lowercase().contains("if-none-match: \"v1\"");
            let head = if !request.starts_with("GET /crates.io/all.zip") {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            } else if cached {
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    zip.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            if head.starts_with("HTTP/1.1 200") {
                let _ = stream.write_all(&zip);
            }
        }
    });
    (url, log)
}

#[test]
fn update_downloads_exports_once_and_the_audit_reads_them() {
    let record = r#"{"id":"TEST-2024-1","modified":"2024-03-01T12:00:00Z","summary":"bad crate","affected":[{"package":{"ecosystem":"crates.io","name":"badcrate"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}"#;
    let mut zip_bytes = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut zip_bytes));
        writer
            .start_file("TEST-2024-1.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(record.as_bytes()).unwrap();
        writer.finish().unwrap();
    }
    let (url, log) = export_server(zip_bytes);
    let repo = TestRepo::new();
    let db = repo.bin().join("osv");
    repo.write(
        "Cargo.lock",
        cargo_lock(&[("badcrate", "1.0.0"), ("goodcrate", "1.0.0")]),
    )
    .commit_all("init");
    let update = |repo: &TestRepo| repo.gate(&["audit", "--update", "--db", db.to_str().unwrap(), "--url", &url]);
    let run = update(&repo);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("crates.io: downloaded"), "{run:?}");
    assert!(db.join("crates.io/all.zip").is_file());
    let run = update(&repo);
    assert!(run.stdout.contains("crates.io: unchanged"), "{run:?}");
    assert_eq!(log.lock().unwrap().len(), 2);

    let run = repo.gate(&["audit", "--db", db.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("Cargo.lock:2: TEST-2024-1: badcrate 1.0.0 — bad crate"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("goodcrate"), "{run:?}");

    repo.config(&audit_gate(&db, ""));
    // The age is that of the newest record, not of the files just downloaded.
    let run = repo.gate(&["doctor"]);
    assert!(run.stdout.contains("audit    problem: database"), "{run:?}");
    assert!(run.stdout.contains("newest record from"), "{run:?}");
    assert!(!run.stdout.contains("from 0 days ago"), "{run:?}");
}

#[test]
fn new_only_follows_requirement_includes_at_the_base_commit() {
    let db = fixture_osv();
    let repo = TestRepo::new();
    repo.config(&audit_gate(&db, "new_only = true\n"))
        .write("py/requirements.txt", "-r base.txt\n")
        .write("py/base.txt", "Jinja2==2.10\n")
        .commit_all("init");
    repo.write("py/requirements.txt", "-r base.txt\nurllib3==1.24.1\n");
    repo.git(&["add", "py/requirements.txt"]);
    let run = repo.gate(&["check", "--staged", "--report", "json=r.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let found = found_ids(&repo);
    assert!(
        !found.is_empty() && found.iter().all(|f| f.contains("urllib3 1.24.1")),
        "{found:?}"
    );
}

const NPM_LOCK: &str = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "web" },
    "node_modules/lodash": { "version": "4.17.20" },
    "node_modules/left-pad": { "version": "1.3.0" }
  }
}
"#;

#[test]
fn packages_the_database_cannot_judge_are_never_a_pass() {
    let db = fixture_osv();
    let repo = TestRepo::new();
    repo.config(&audit_gate(&db, ""))
        .write(
            "Cargo.lock",
            cargo_lock(&[("regex", "1.10.0"), ("odd", "not-a-version")]),
        )
        .write("web/package-lock.json", NPM_LOCK)
        .write("py/requirements/prod.txt", "requests==2.19.0.\n")
        .commit_all("init");
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.status("deps"), "error", "{run:?}");
    assert!(run.stdout.contains("npm packages not audited: the database"), "{run:?}");
    assert!(run.stdout.contains("holds no npm records (2 packages)"), "{run:?}");
    assert!(
        run.stdout
            .contains("Cargo.lock:7: odd not-a-version not audited: not a crates.io version"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("py/requirements/prod.txt:1: requests 2.19.0. not audited: not a PyPI version"),
        "{run:?}"
    );
    // By hand, the same.
    let run = repo.gate(&["audit", "--db", db.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("error: 3 entries not audited"), "{run:?}");

    // Saying which ecosystems to audit, or that the rest only warns, is a choice the gate states.
    repo.config(&audit_gate(
        &db,
        "ecosystems = [\"crates.io\", \"PyPI\"]\nunaudited = \"warn\"\n",
    ))
    .commit_all("choose");
    let run = repo.gate(&["check", "--all", "--report", "json=r.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("no known vulnerabilities in 1 package (3 lockfiles); 2 not audited"),
        "{run:?}"
    );
    let report = repo.read("r.json");
    assert!(
        report.contains("not listed in `ecosystems` are not audited"),
        "{report}"
    );
    assert!(report.contains("\"code\": \"not-audited\""), "{report}");
    repo.config(&audit_gate(&db, "ecosystems = [\"maven\"]\n"));
    let run = repo.gate(&["check", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown ecosystem `maven`"), "{run:?}");
}
