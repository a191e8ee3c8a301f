//! Runs the test GOPROXY by hand, e.g. to regenerate examples/private/go.sum:
//!
//! ```sh
//! cargo run -p golb-e2e --example goproxy -- [--http] [DIR]
//! ```
//!
//! Serves DIR (default tests/fixtures/goproxy) over HTTPS (or plain HTTP with
//! `--http`) with user `golb` and a random password, writes the CA and a
//! netrc into a temporary directory, prints the environment for the go
//! command, and serves until killed. See docs/private-modules.md.

use golb_e2e::goproxy::GoProxy;
use golb_e2e::repo_root;
use std::path::PathBuf;

fn main() {
    let mut http = false;
    let mut dir = repo_root().join("tests/fixtures/goproxy");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--http" => http = true,
            _ => dir = PathBuf::from(arg),
        }
    }
    let password = golb_e2e::goproxy::random_token();
    let proxy = if http {
        GoProxy::start(&dir, "golb", &password)
    } else {
        GoProxy::start_tls(&dir, "golb", &password)
    }
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));

    let state = std::env::temp_dir().join(format!("golb-goproxy-{}", proxy.port()));
    std::fs::create_dir_all(&state).expect("state directory");
    let netrc = state.join("netrc");
    std::fs::write(&netrc, golb_e2e::goproxy::netrc(&proxy, "golb", &password))
        .expect("netrc written");
    println!("GOPROXY={}", proxy.url());
    println!("NETRC={}", netrc.display());
    if let Some(ca) = proxy.ca_pem() {
        let path = state.join("ca.pem");
        std::fs::write(&path, ca).expect("CA written");
        println!("SSL_CERT_FILE={}", path.display());
    }
    println!("GONOSUMDB=golb.test/*");
    eprintln!("serving {} until killed", dir.display());
    loop {
        std::thread::park();
    }
}
