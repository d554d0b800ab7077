//! `gate audit --update`: downloads `<url>/<Ecosystem>/all.zip` for each ecosystem the
//! repository uses, skipping unchanged exports (`ETag`), and replaces the old copy only once
//! the new one is complete (write beside, then rename).

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::version::Ecosystem;

/// What happened to one ecosystem's export.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Updated {
    Downloaded(u64),
    Unchanged,
}

pub(crate) fn update(db: &Path, url: &str, ecosystem: Ecosystem) -> Result<Updated> {
    let folder = db.join(ecosystem.osv_name());
    std::fs::create_dir_all(&folder).with_context(|| format!("failed to create `{}`", folder.display()))?;
    let (target, etag_file) = (folder.join("all.zip"), folder.join("all.zip.etag"));
    let source = format!("{}/{}/all.zip", url.trim_end_matches('/'), ecosystem.osv_name());
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_mins(10)))
            .build(),
    );
    let mut request = agent.get(&source);
    let etag = std::fs::read_to_string(&etag_file).ok().filter(|_| target.is_file());
    if let Some(etag) = &etag {
        request = request.header("If-None-Match", etag.trim());
    }
    let mut response = request
        .call()
        .with_context(|| format!("failed to download `{source}`"))?;
    match response.status().as_u16() {
        304 => return Ok(Updated::Unchanged),
        200 => {}
        code => bail!("downloading `{source}` failed: HTTP {code}"),
    }
    let new_etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut bytes = Vec::new();
    response
        .body_mut()
        .with_config()
        .limit(2 << 30)
        .reader()
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to download `{source}`"))?;
    zip::ZipArchive::new(std::io::Cursor::new(&bytes)).with_context(|| format!("`{source}` is not a zip archive"))?;
    let temp = folder.join("all.zip.download");
    std::fs::write(&temp, &bytes).with_context(|| format!("failed to write `{}`", temp.display()))?;
    std::fs::rename(&temp, &target).with_context(|| format!("failed to replace `{}`", target.display()))?;
    match new_etag {
        Some(etag) => std::fs::write(&etag_file, etag)?,
        None => {
            let _ = std::fs::remove_file(&etag_file);
        }
    }
    Ok(Updated::Downloaded(bytes.len() as u64))
}
