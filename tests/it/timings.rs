//! `--timings`: the page opened in headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs): it renders without scripts or network, names every gate, draws a bar per
//! batch, outlines the critical path and marks cache hits.

use std::path::Path;
use std::process::Command;

use crate::common::{TestRepo, gate_toml};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium as the machine's probe starts it: headless, no sandbox (root), no background
/// network, a fresh profile.
fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "chromium is not installed: run `.ci/run`, or `apt-get install chromium`"
    );
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_timings_page_renders_in_chromium_and_names_every_gate() {
    let repo = TestRepo::new();
    repo.tool("ok", "sleep 0.2");
    repo.config(&format!(
        "{}{}{}",
        gate_toml("build", "run = [\"ok\"]\nalways = true"),
        gate_toml("unit-tests", "run = [\"ok\"]\nalways = true\ndepends_on = [\"build\"]"),
        gate_toml("lint", "files = [\"*.py\"]\nrun = [\"ok\", \"{files}\"]"),
    ))
    .write("a.py", "1\n")
    .commit_all("init");
    repo.gate(&["check", "--all"]);
    // `lint` is a cache hit now; `build` and `unit-tests` run again (a dependency and its
    // dependent: the critical path).
    repo.write("b.txt", "changed\n").add_all();
    let run = repo.gate(&[
        "check",
        "--all",
        "--timings=out/timings.html",
        "--report",
        "json=out/report.json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let page = repo.root().join("out/timings.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no script, and no address but the SVG namespace.
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(html.matches("http").count(), 1, "{html}");

    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let dom = chromium(profile.path(), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for gate in ["build", "unit-tests", "lint"] {
        assert!(dom.contains(&format!("<td>{gate}</td>")), "{gate} in the table: {dom}");
    }
    assert_eq!(dom.matches("<rect").count(), 2, "a bar per batch that ran: {dom}");
    assert!(dom.contains("Critical path: build → unit-tests"), "{dom}");
    assert!(
        dom.contains("passed (cached)") && dom.contains("◆ lint"),
        "the cache hit is marked: {dom}"
    );

    let shot = repo.root().join("out/timings.png");
    let taken = chromium(
        profile.path(),
        &[
            "--window-size=1200,700",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot: {taken:?}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 700));
    assert!(
        png.len() > 10_000,
        "a page with content, not a blank one: {} bytes",
        png.len()
    );

    // The JSON report has the same batches.
    let report: serde_json::Value = serde_json::from_str(&repo.read("out/report.json")).unwrap();
    let build = &report["gates"][0]["batches"][0];
    assert!(
        build["end_ms"].as_u64().unwrap() >= build["start_ms"].as_u64().unwrap() + 200,
        "{report}"
    );
    assert!(build["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0), "{report}");
}
