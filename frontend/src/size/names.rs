//! From a Go linker symbol name to its package, and from a package to the
//! module that provides it: the two lookups size attribution makes for every
//! function (pclntab) and every data symbol (an unstripped twin's table).

/// Who provides a package.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// The module being built (its `main` package and every package under
    /// its module path).
    MainModule,
    /// A dependency module, by module path.
    Dependency(String),
    /// Go's standard library (first path element without a dot, `vendor/…`
    /// copies inside the standard library included).
    StandardLibrary,
    /// A package path that no listed module provides and that is not in the
    /// standard library, e.g. because the module list is incomplete.
    UnknownModule,
}

/// The module paths a binary was built from, as its build info lists them.
pub struct Modules<'a> {
    pub main: &'a str,
    /// Dependency module paths (replacements keep the original path).
    pub dependencies: &'a [String],
}

impl Modules<'_> {
    /// Who provides `package`: the main module for `main`, else the module
    /// with the longest path that is `package` or a prefix of it at a `/`,
    /// else the standard library when the first element has no dot.
    pub fn owner(&self, package: &str) -> Owner {
        if package == "main" {
            return Owner::MainModule;
        }
        let within = |module: &str| {
            package == module
                || (package.starts_with(module)
                    && package.as_bytes().get(module.len()) == Some(&b'/'))
        };
        let best = self
            .dependencies
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(self.main))
            .filter(|m| !m.is_empty() && within(m))
            .max_by_key(|m| m.len());
        match best {
            Some(m) if m == self.main => Owner::MainModule,
            Some(m) => Owner::Dependency(m.to_string()),
            None if !package.split('/').next().unwrap_or("").contains('.') => {
                Owner::StandardLibrary
            }
            None => Owner::UnknownModule,
        }
    }
}

/// The package a linker symbol belongs to, or None for symbols the linker
/// makes for the whole program (`go:string.*`, `go:func.*`, `$f64.*`,
/// `runtime.text`'s kin without a package, type descriptors of unnamed
/// types).
///
/// Names look like `example.com/a/b.F`, `example.com/a/b.(*T[go.shape.int]).M`,
/// `gopkg.in/yaml%2ev3.Unmarshal` (the linker escapes dots in the last path
/// element), `type:.eq.example.com/a.T`, `type:*example.com/a.T`,
/// `go:itab.*example.com/a.T,io.Reader`.
pub fn package_of(symbol: &str) -> Option<String> {
    if let Some(rest) = symbol.strip_prefix("go:itab.") {
        return type_package(rest);
    }
    if let Some(rest) = symbol
        .strip_prefix("type:.eq.")
        .or_else(|| symbol.strip_prefix("type:.hash."))
        .or_else(|| symbol.strip_prefix("type:"))
    {
        return type_package(rest);
    }
    if symbol.starts_with("go:") || symbol.starts_with('$') {
        return None;
    }
    qualified_package(symbol)
}

/// The package of a type written as Go's linker writes it: `*p.T`, `[]p.T`,
/// `[4]p.T`, `p.T[…]`. Composite types (`map[…]…`, `func(…)`, `struct {…}`)
/// belong to no one package.
fn type_package(name: &str) -> Option<String> {
    let mut rest = name;
    loop {
        rest = rest.trim_start_matches('*');
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            rest = &after[close + 1..];
        } else {
            break;
        }
    }
    if rest.starts_with("map[")
        || rest.starts_with("func(")
        || rest.starts_with("struct ")
        || rest.starts_with("interface ")
        || rest.starts_with("chan ")
        || rest.starts_with("<-chan ")
    {
        return None;
    }
    // An itab names the type, a comma, then the interface.
    qualified_package(rest.split(',').next().unwrap_or(rest))
}

/// `path/to/pkg.Rest` → `path/to/pkg`, unescaping `%xx` in the path.
fn qualified_package(name: &str) -> Option<String> {
    // Generic instantiations carry other packages' names in brackets.
    let head = name.split('[').next().unwrap_or(name);
    let last_slash = head.rfind('/').map_or(0, |i| i + 1);
    let dot = head[last_slash..].find('.')? + last_slash;
    let package = &head[..dot];
    if package.is_empty() || package.contains(['(', ' ', '*']) {
        return None;
    }
    Some(unescape(package))
}

/// Undoes the linker's escaping of package paths (cmd/internal/objabi
/// PathToPrefix): `%2e` for a dot in the last element, `%xx` for control
/// characters, `%`, `"` and non-ASCII bytes.
fn unescape(path: &str) -> String {
    if !path.contains('%') {
        return path.to_string();
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_of_linker_names() {
        let cases = [
            ("main.main", Some("main")),
            ("runtime.mallocgc", Some("runtime")),
            ("example.com/a/b.F.func1", Some("example.com/a/b")),
            ("example.com/a/b.(*T).M", Some("example.com/a/b")),
            (
                "example.com/a/b.(*List[go.shape.int]).Push",
                Some("example.com/a/b"),
            ),
            (
                "slices.SortFunc[go.shape.[]example.com/x.T,go.shape.func(x.T) int]",
                Some("slices"),
            ),
            ("gopkg.in/yaml%2ev3.Unmarshal", Some("gopkg.in/yaml.v3")),
            (
                "crypto/internal/entropy/v1%2e0%2e0.SHA384",
                Some("crypto/internal/entropy/v1.0.0"),
            ),
            (
                "vendor/golang.org/x/net/idna.idnaValues",
                Some("vendor/golang.org/x/net/idna"),
            ),
            ("type:.eq.example.com/a.T", Some("example.com/a")),
            ("type:*example.com/a.T", Some("example.com/a")),
            ("type:[]*example.com/a.T", Some("example.com/a")),
            ("type:[4]example.com/a.T", Some("example.com/a")),
            ("type:map[string]example.com/a.T", None),
            ("type:func(int) error", None),
            ("go:itab.*example.com/a.T,io.Reader", Some("example.com/a")),
            ("go:string.abc", None),
            ("go:func.*", None),
            ("$f64.3ff0000000000000", None),
            ("_rt0_amd64_linux", None),
        ];
        for (symbol, want) in cases {
            assert_eq!(package_of(symbol).as_deref(), want, "{symbol}");
        }
    }

    #[test]
    fn owners_by_longest_module_prefix() {
        let deps = vec![
            "github.com/acme/lib".to_string(),
            "github.com/acme/lib/v2".to_string(),
            "gopkg.in/yaml.v3".to_string(),
        ];
        let modules = Modules {
            main: "example.com/app",
            dependencies: &deps,
        };
        let dep = |m: &str| Owner::Dependency(m.to_string());
        assert_eq!(modules.owner("main"), Owner::MainModule);
        assert_eq!(
            modules.owner("example.com/app/internal/x"),
            Owner::MainModule
        );
        assert_eq!(
            modules.owner("example.com/application"),
            Owner::UnknownModule
        );
        assert_eq!(
            modules.owner("github.com/acme/lib/sub"),
            dep("github.com/acme/lib")
        );
        assert_eq!(
            modules.owner("github.com/acme/lib/v2/x"),
            dep("github.com/acme/lib/v2")
        );
        assert_eq!(modules.owner("gopkg.in/yaml.v3"), dep("gopkg.in/yaml.v3"));
        assert_eq!(modules.owner("net/http"), Owner::StandardLibrary);
        assert_eq!(
            modules.owner("vendor/golang.org/x/net/idna"),
            Owner::StandardLibrary
        );
        // A main module without a dot in its path still wins over the std rule.
        let bare = Modules {
            main: "hello",
            dependencies: &[],
        };
        assert_eq!(bare.owner("hello/internal/x"), Owner::MainModule);
    }
}
