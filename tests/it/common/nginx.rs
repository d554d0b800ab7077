//! nginx with `WebDAV` `PUT` as a remote cache, on 127.0.0.1 and a free port, for as long as
//! the value lives (Debian's `nginx`; `.ci/run` installs it). One process, no master: a
//! killed master would leave its worker serving.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::walk;

const NGINX: &str = "/usr/sbin/nginx";

pub(crate) struct Nginx {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub(crate) port: u16,
}

impl Nginx {
    /// A cache at `http://127.0.0.1:PORT/cache`; `token`: the bearer token it demands;
    /// `broken`: it answers 500 to everything.
    pub(crate) fn start(token: Option<&str>, broken: bool) -> Self {
        assert!(
            Path::new(NGINX).is_file(),
            "nginx is not installed: run `.ci/run`, or `apt-get install nginx`"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let root = dir.path();
        std::fs::create_dir_all(root.join("store/cache")).unwrap();
        let check = match (token, broken) {
            (_, true) => "return 500;".to_owned(),
            (Some(token), false) => format!("if ($http_authorization != \"Bearer {token}\") {{ return 401; }}"),
            (None, false) => String::new(),
        };
        let conf = format!(
            "user root;\ndaemon off;\nmaster_process off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {root}/access.log;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
             fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
             server {{\n    listen 127.0.0.1:{port};\n    root {root}/store;\n    client_max_body_size 100m;\n\
             location /cache/ {{\n      {check}\n      dav_methods PUT;\n      create_full_put_path on;\n      dav_access user:rw;\n    }}\n  }}\n}}\n",
            root = root.display()
        );
        std::fs::write(root.join("nginx.conf"), conf).unwrap();
        let child = Command::new(NGINX)
            .args([
                "-p",
                &root.display().to_string(),
                "-c",
                &root.join("nginx.conf").display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let nginx = Self {
            child: Some(child),
            dir,
            port,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nginx did not start: {}",
                std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/cache", self.port)
    }

    /// Every file the cache holds.
    pub(crate) fn stored(&self) -> Vec<PathBuf> {
        walk(&self.dir.path().join("store/cache"))
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server that accepts connections and never answers, for as long as it lives.
pub(crate) struct Silent {
    pub(crate) port: u16,
    _listener: TcpListener,
}

impl Silent {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = listener.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in accepting.incoming().flatten() {
                held.push(stream); // open, silent
            }
        });
        Self {
            port,
            _listener: listener,
        }
    }
}
