//! Real Go binaries for unit tests, built once per test run with the host's
//! `go`: a module with a dependency from the test GOPROXY fixture (so it has
//! a go.sum hash), one replaced by a local directory, and ldflags that need
//! quoting; linked stripped (`-s -w -trimpath`, as golb links) and not.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct TestBinaries {
    /// The module's directory (go.mod, go.sum, sources).
    pub module_dir: PathBuf,
    /// Linked as golb links: `-trimpath -ldflags "-s -w …"`.
    pub stripped: PathBuf,
    /// Linked with Go's defaults (symbol table and DWARF kept) and an -X
    /// flag whose value needs quoting.
    pub unstripped: PathBuf,
    /// go.sum's `h1:` hash of golb.test/private/greeting v1.0.0.
    pub greeting_sum: String,
}

const GO_MOD: &str = "module example.com/gbtest\n\ngo 1.21\n\n\
require (\n\tgolb.test/private/greeting v1.0.0\n\texample.com/localdep v0.0.0\n)\n\n\
replace example.com/localdep => ./localdep\n";

const MAIN: &str = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/localdep\"\n\
\t\"golb.test/private/greeting\"\n)\n\nvar message = \"unset\"\n\n\
func main() { fmt.Println(message, greeting.Hello(), localdep.Answer()) }\n";

pub fn test_binaries() -> &'static TestBinaries {
    static BINARIES: OnceLock<TestBinaries> = OnceLock::new();
    BINARIES.get_or_init(build)
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
}

fn go(dir: &Path, args: &[&str]) {
    let proxy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/goproxy");
    let proxy = proxy.canonicalize().unwrap();
    let out = Command::new("go")
        .args(args)
        .current_dir(dir)
        .env("GOPROXY", format!("file://{}", proxy.display()))
        .env("GOSUMDB", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .output()
        .unwrap_or_else(|e| panic!("go {args:?}: {e} (Go must be on PATH)"));
    assert!(
        out.status.success(),
        "go {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build() -> TestBinaries {
    // Under target/, replaced on every run, so runs leave nothing behind.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/unit-go-binaries");
    let _ = std::fs::remove_dir_all(&dir);
    write(&dir, "go.mod", GO_MOD);
    write(&dir, "cmd/tool/main.go", MAIN);
    write(
        &dir,
        "localdep/go.mod",
        "module example.com/localdep\n\ngo 1.21\n",
    );
    write(
        &dir,
        "localdep/localdep.go",
        "package localdep\n\nfunc Answer() int { return 42 }\n",
    );
    go(&dir, &["mod", "tidy"]);
    go(
        &dir,
        &[
            "build",
            "-trimpath",
            "-ldflags=-s -w",
            "-o",
            "stripped",
            "./cmd/tool",
        ],
    );
    go(
        &dir,
        &[
            "build",
            "-ldflags=-X \"main.message=hello, world\"",
            "-o",
            "unstripped",
            "./cmd/tool",
        ],
    );
    let go_sum = std::fs::read_to_string(dir.join("go.sum")).unwrap();
    let greeting_sum = go_sum
        .lines()
        .find_map(|l| l.strip_prefix("golb.test/private/greeting v1.0.0 "))
        .unwrap()
        .to_string();
    TestBinaries {
        stripped: dir.join("stripped"),
        unstripped: dir.join("unstripped"),
        module_dir: dir,
        greeting_sum,
    }
}
