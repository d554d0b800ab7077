//! A remote store behind the local one, on the HTTP layout of Bazel's remote cache (what
//! bazel-remote serves, and nginx with `WebDAV` `PUT`, or an S3 gateway): `GET`, `PUT` on
//! `<base>/ac/<key>` for a result and `<base>/cas/<sha256>` for the bytes it refers to.
//!
//! The bytes, so another implementation can serve them:
//! - `ac/<key>`, `<key>` 64 lowercase hex digits: a UTF-8 JSON object `{"version": 1,
//!   "gate": NAME, "duration_ms": N, "summary": TEXT or null, "created": UNIX SECONDS,
//!   "output": SHA256, "diagnostics": SHA256}`.
//! - `cas/<sha256>`: the gate's captured output (UTF-8), and its diagnostics as a JSON array
//!   (the JSON report's shape); each named by the sha256 of its bytes, which a reader checks.
//!
//! The remote can never fail or stall a run: short connect and read timeouts, a failure is
//! a miss, and after the first one the remote is not asked again in this run. Credentials
//! (`GATE_CACHE_TOKEN` as a bearer token, or `user:password@` in the URL) are sent, never
//! shown: every message names the remote without them.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Key, Record, Store};

/// No blob or record gate writes is bigger.
const MAX_BODY: u64 = 64 << 20;

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    gate: String,
    duration_ms: u64,
    summary: Option<String>,
    created: u64,
    output: String,
    diagnostics: String,
}

/// The remote: where, how to authenticate, whether this run may write.
pub(crate) struct Remote {
    agent: ureq::Agent,
    /// Without credentials: safe to show.
    base: String,
    authorization: Option<String>,
    write: bool,
    /// Set by the first failure: the remote is not asked again this run.
    broken: AtomicBool,
    failure: Mutex<Option<String>>,
    pub(crate) hits: AtomicU64,
}

impl Remote {
    /// `url`: `http(s)://[user:password@]host[:port][/prefix]`; `token`: a bearer token.
    pub(crate) fn new(url: &str, token: Option<String>, write: bool, timeout: Duration) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| *scheme == "http" || *scheme == "https")
            .ok_or_else(|| "the remote cache must be an `http://` or `https://` URL".to_owned())?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((credentials, host)) => (Some(credentials), host),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err("the remote cache URL names no host".to_owned());
        }
        let authorization = match (token, credentials) {
            (Some(token), _) => Some(format!("Bearer {token}")),
            (None, Some(credentials)) => {
                use base64::Engine as _;
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(credentials)
                ))
            }
            (None, None) => None,
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(timeout))
            .timeout_global(Some(timeout * 4))
            .user_agent(concat!("gate/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent: ureq::Agent::new_with_config(config),
            base: format!("{scheme}://{host}/{}", path.trim_matches('/'))
                .trim_end_matches('/')
                .to_owned(),
            authorization,
            write,
            broken: AtomicBool::new(false),
            failure: Mutex::new(None),
            hits: AtomicU64::new(0),
        })
    }

    /// The remote as messages may name it.
    pub(crate) fn shown(&self) -> &str {
        &self.base
    }

    /// Why the remote was given up on in this run, if it was.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    fn fail(&self, why: String) {
        if !self.broken.swap(true, Ordering::SeqCst)
            && let Ok(mut failure) = self.failure.lock()
        {
            *failure = Some(why);
        }
    }

    fn fetch(&self, path: &str) -> Option<Vec<u8>> {
        if self.broken.load(Ordering::SeqCst) {
            return None;
        }
        let url = format!("{}/{path}", self.base);
        let mut request = self.agent.get(&url);
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        match request.call() {
            Ok(response) if response.status().as_u16() == 200 => {
                let mut body = Vec::new();
                let read = response.into_body().into_reader().take(MAX_BODY).read_to_end(&mut body);
                match read {
                    Ok(_) => Some(body),
                    Err(err) => {
                        self.fail(format!("reading `{path}` failed: {err}"));
                        None
                    }
                }
            }
            Ok(response) if response.status().as_u16() == 404 => None,
            Ok(response) => {
                self.fail(format!("it answered HTTP {}", response.status().as_u16()));
                None
            }
            Err(err) => {
                self.fail(format!(
                    "it could not be reached: {}",
                    self.without_credentials(&err.to_string())
                ));
                None
            }
        }
    }

    fn send(&self, path: &str, bytes: &[u8]) -> bool {
        if !self.write || self.broken.load(Ordering::SeqCst) {
            return false;
        }
        let url = format!("{}/{path}", self.base);
        let mut request = self.agent.put(&url);
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        match request.send(bytes) {
            Ok(response) if response.status().is_success() => true,
            Ok(response) => {
                self.fail(format!("it refused a write (HTTP {})", response.status().as_u16()));
                false
            }
            Err(err) => {
                self.fail(format!(
                    "it could not be reached: {}",
                    self.without_credentials(&err.to_string())
                ));
                false
            }
        }
    }

    /// An error's text with the credentials taken out, should it quote the URL.
    fn without_credentials(&self, text: &str) -> String {
        match &self.authorization {
            Some(authorization) => {
                let secret = authorization.split_once(' ').map_or("", |(_, s)| s);
                if secret.is_empty() {
                    text.to_owned()
                } else {
                    text.replace(secret, "***")
                }
            }
            None => text.to_owned(),
        }
    }

    /// A CAS blob, only if its bytes are what its name says.
    fn blob(&self, sha: &str) -> Option<Vec<u8>> {
        let bytes = self.fetch(&format!("cas/{sha}"))?;
        (sha256(&bytes) == sha).then_some(bytes)
    }
}

impl Store for Remote {
    fn get(&self, key: &Key) -> Option<Record> {
        let entry: Entry = serde_json::from_slice(&self.fetch(&format!("ac/{key}"))?).ok()?;
        if entry.version != 1 {
            return None;
        }
        let output = String::from_utf8(self.blob(&entry.output)?).ok()?;
        let diagnostics = serde_json::from_slice(&self.blob(&entry.diagnostics)?).ok()?;
        let mut record = Record::new(&entry.gate, entry.duration_ms, output, diagnostics);
        record.summary = entry.summary;
        record.created = entry.created;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(record)
    }

    fn put(&self, key: &Key, record: &Record) -> Result<()> {
        let output = record.output.as_bytes();
        let diagnostics = serde_json::to_vec(&record.diagnostics)?;
        let entry = Entry {
            version: 1,
            gate: record.gate.clone(),
            duration_ms: record.duration_ms,
            summary: record.summary.clone(),
            created: record.created,
            output: sha256(output),
            diagnostics: sha256(&diagnostics),
        };
        // Blobs first: a record is only ever visible with what it refers to.
        let _ = self.send(&format!("cas/{}", entry.output), output)
            && self.send(&format!("cas/{}", entry.diagnostics), &diagnostics)
            && self.send(&format!("ac/{key}"), &serde_json::to_vec(&entry)?);
        Ok(())
    }
}

fn sha256(bytes: &[u8]) -> String {
    crate::model::text::hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shown_remote_holds_no_credentials() {
        let remote = Remote::new(
            "http://me:secret@127.0.0.1:9/prefix/",
            None,
            false,
            Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!(remote.shown(), "http://127.0.0.1:9/prefix");
        assert_eq!(remote.authorization.as_deref(), Some("Basic bWU6c2VjcmV0"));
        assert!(Remote::new("ftp://x", None, false, Duration::from_millis(1)).is_err());
    }
}
