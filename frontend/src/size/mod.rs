//! What makes a Go binary big: every byte of the file attributed to the
//! module's own packages, each dependency module, the standard library,
//! embedded files, or a named "not attributed" remainder, so that the parts
//! add up to the file size exactly.
//!
//! Two sources, both read from the binary golb ships:
//! - Go's pclntab (`go_binary::pclntab`), present even with `-s -w`: the code
//!   of every function and its share of the function tables, by package.
//! - Optionally an unstripped twin: the same link without `-s -w`. Its
//!   sections are byte-for-byte those of the shipped binary (checked here;
//!   `-s -w` only drops `.symtab` and DWARF), so its symbol table attributes
//!   the data sections (`.rodata`, `.data`, `.noptrdata`, …) of the shipped
//!   binary exactly.
//!
//! Embedded files (`//go:embed`) are located by content in the binary and
//! attributed to the package that embeds them.

pub mod gate;
pub mod names;
pub mod render;

use crate::go_binary::pclntab;
use names::{Modules, Owner};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the bytes were attributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Code and function tables from the pclntab; data sections not attributed.
    Pclntab,
    /// Plus data symbols from an unstripped twin of the same link.
    PclntabAndTwinSymbols,
}

/// The size report of one binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeReport {
    /// The binary's name in the image, e.g. "server".
    pub binary: String,
    /// The file's size: the sum of every `owners` and `not_attributed` entry.
    pub file_bytes: u64,
    pub method: Method,
    /// Largest first.
    pub owners: Vec<OwnerSize>,
    /// Bytes no package claims, by section, largest first.
    pub not_attributed: Vec<Part>,
    /// Embedded files whose content was not found in the binary (not counted).
    pub embedded_not_found: Vec<String>,
}

/// Who provides code: the module itself, a dependency, or the standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerKind {
    MainModule,
    Dependency,
    StandardLibrary,
    UnknownModule,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerSize {
    pub kind: OwnerKind,
    /// The module path; "std" for the standard library.
    pub name: String,
    pub bytes: u64,
    /// Largest first.
    pub packages: Vec<PackageSize>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSize {
    pub package: String,
    /// code + tables + data + embedded.
    pub bytes: u64,
    /// Machine code (`.text`), from the pclntab.
    pub code: u64,
    /// The package's functions' share of the pclntab.
    pub tables: u64,
    /// Data symbols, from the twin (0 without one).
    pub data: u64,
    /// Embedded files' content.
    pub embedded: u64,
    pub embedded_files: Vec<Part>,
}

/// A named number of bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub bytes: u64,
}

/// A file a package embeds with `//go:embed`.
#[derive(Clone, Debug)]
pub struct EmbeddedFile {
    pub package: String,
    /// As the report shows it, e.g. "static/index.html".
    pub path: String,
    pub content: Vec<u8>,
}

pub struct Input<'a> {
    pub name: &'a str,
    /// The binary as shipped (usually linked with `-s -w`).
    pub binary: &'a [u8],
    pub modules: Modules<'a>,
    /// The same link without `-s -w`, if one was made for the report.
    pub twin: Option<&'a [u8]>,
    pub embedded: &'a [EmbeddedFile],
}

#[derive(Debug, thiserror::Error)]
pub enum SizeError {
    #[error("{name}: not an ELF file golb can read: {message}")]
    NotElf { name: String, message: String },
    #[error("{name}: no .gopclntab section: is it a Go binary linked by Go's own linker, and not packed (UPX)? Report sizes before packing")]
    NoPclntab { name: String },
    #[error("{name}: {source}")]
    Pclntab {
        name: String,
        source: pclntab::PclntabError,
    },
    #[error("{name}: the twin's section {section} differs from the binary's: the twin must be the same `go build` without -s -w")]
    TwinDiffers { name: String, section: String },
}

const OTHER_FILE_BYTES: &str = "ELF headers and alignment";

/// A file-backed section of the binary.
struct Section {
    name: String,
    offset: u64,
    size: u64,
}

/// Attributes every byte of `input.binary`.
pub fn attribute(input: &Input) -> Result<SizeReport, SizeError> {
    let name = input.name.to_string();
    let not_elf = |e: object::Error| SizeError::NotElf {
        name: name.clone(),
        message: e.to_string(),
    };
    let file = object::File::parse(input.binary).map_err(not_elf)?;
    let sections = file_sections(&file);
    let table_data = file
        .section_by_name(".gopclntab")
        .and_then(|s| s.data().ok())
        .ok_or_else(|| SizeError::NoPclntab { name: name.clone() })?;
    let table = pclntab::parse(table_data).map_err(|source| SizeError::Pclntab {
        name: name.clone(),
        source,
    })?;

    let mut packages: BTreeMap<String, PackageSize> = BTreeMap::new();
    // Bytes claimed inside each section, to name what is left.
    let mut claimed: BTreeMap<String, u64> = BTreeMap::new();
    for function in &table.functions {
        // A function without a package (assembly stubs) stays in the
        // section's remainder.
        if let Some(package) = names::package_of(&function.name) {
            let entry = packages.entry(package).or_default();
            entry.code += function.code_bytes;
            entry.tables += function.table_bytes;
            *claimed.entry(".text".into()).or_default() += function.code_bytes;
            *claimed.entry(".gopclntab".into()).or_default() += function.table_bytes;
        }
    }

    // Embedded files: first unclaimed occurrence of each content.
    let mut embed_ranges: Vec<(u64, u64)> = Vec::new();
    let mut embedded_not_found = Vec::new();
    for embedded in input.embedded {
        match find_unclaimed(input.binary, &embedded.content, &embed_ranges) {
            Some(start) => {
                let end = start + embedded.content.len() as u64;
                embed_ranges.push((start, end));
                if let Some(section) = section_at(&sections, start) {
                    *claimed.entry(section.name.clone()).or_default() +=
                        embedded.content.len() as u64;
                }
                let entry = packages.entry(embedded.package.clone()).or_default();
                entry.embedded += embedded.content.len() as u64;
                entry.embedded_files.push(Part {
                    name: embedded.path.clone(),
                    bytes: embedded.content.len() as u64,
                });
            }
            None => embedded_not_found.push(format!("{}: {}", embedded.package, embedded.path)),
        }
    }

    let method = match input.twin {
        None => Method::Pclntab,
        Some(twin) => {
            let twin_file = object::File::parse(twin).map_err(not_elf)?;
            check_twin(&name, &file, &twin_file, &sections)?;
            for (package, section, bytes) in twin_data(&twin_file, &sections, &embed_ranges) {
                // Program-wide symbols (strings, function data, unnamed
                // types) stay in the section's remainder.
                if let Some(package) = package {
                    *claimed.entry(section).or_default() += bytes;
                    packages.entry(package).or_default().data += bytes;
                }
            }
            Method::PclntabAndTwinSymbols
        }
    };

    let mut not_attributed: Vec<Part> = Vec::new();
    let mut in_sections = 0;
    for section in &sections {
        in_sections += section.size;
        let rest = section
            .size
            .saturating_sub(claimed.get(&section.name).copied().unwrap_or(0));
        let what = match (section.name.as_str(), input.twin.is_some()) {
            (".text", _) => "code without a package name (assembly stubs)",
            (".gopclntab", _) => "tables shared by all functions (files, lines)",
            (".shstrtab", _) => "section names",
            (_, true) => "program-wide data (strings, function data, unnamed types)",
            (_, false) => "data: types, strings, variables (an unstripped twin attributes some)",
        };
        if rest > 0 {
            not_attributed.push(Part {
                name: format!("{} {what}", section.name),
                bytes: rest,
            });
        }
    }
    let file_bytes = input.binary.len() as u64;
    if file_bytes > in_sections {
        not_attributed.push(Part {
            name: OTHER_FILE_BYTES.into(),
            bytes: file_bytes - in_sections,
        });
    }
    not_attributed.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));

    let mut owners: BTreeMap<Owner, Vec<PackageSize>> = BTreeMap::new();
    for (package, mut size) in packages {
        size.package = package;
        size.bytes = size.code + size.tables + size.data + size.embedded;
        owners
            .entry(input.modules.owner(&size.package))
            .or_default()
            .push(size);
    }
    let mut owners: Vec<OwnerSize> = owners
        .into_iter()
        .map(|(owner, mut packages)| {
            packages.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.package.cmp(&b.package)));
            let (kind, name) = match owner {
                Owner::MainModule => (OwnerKind::MainModule, input.modules.main.to_string()),
                Owner::Dependency(path) => (OwnerKind::Dependency, path),
                Owner::StandardLibrary => (OwnerKind::StandardLibrary, "std".to_string()),
                Owner::UnknownModule => (OwnerKind::UnknownModule, "unknown module".to_string()),
            };
            OwnerSize {
                kind,
                name,
                bytes: packages.iter().map(|p| p.bytes).sum(),
                packages,
            }
        })
        .collect();
    owners.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    Ok(SizeReport {
        binary: name,
        file_bytes,
        method,
        owners,
        not_attributed,
        embedded_not_found,
    })
}

fn file_sections(file: &object::File) -> Vec<Section> {
    let mut sections: Vec<Section> = file
        .sections()
        .filter(|s| s.kind() != SectionKind::UninitializedData)
        .filter_map(|s| {
            let (offset, size) = s.file_range()?;
            let name = s.name().ok()?.to_string();
            (size > 0).then_some(Section { name, offset, size })
        })
        .collect();
    sections.sort_by_key(|s| s.offset);
    sections
}

fn section_at(sections: &[Section], offset: u64) -> Option<&Section> {
    sections
        .iter()
        .find(|s| offset >= s.offset && offset < s.offset + s.size)
}

fn find_unclaimed(haystack: &[u8], needle: &[u8], taken: &[(u64, u64)]) -> Option<u64> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find_iter(haystack, needle)
        .map(|i| i as u64)
        .find(|&start| {
            let end = start + needle.len() as u64;
            !taken.iter().any(|&(a, b)| start < b && a < end)
        })
}

/// The twin must hold exactly the shipped binary's loaded sections, or its
/// symbols would describe another layout. (Section names, `.shstrtab`,
/// differ: the twin has more sections.)
fn check_twin(
    name: &str,
    binary: &object::File,
    twin: &object::File,
    sections: &[Section],
) -> Result<(), SizeError> {
    for section in sections {
        let loaded = binary
            .section_by_name(&section.name)
            .is_some_and(|s| s.address() != 0);
        if !loaded {
            continue;
        }
        let ours = binary
            .section_by_name(&section.name)
            .and_then(|s| s.data().ok());
        let theirs = twin
            .section_by_name(&section.name)
            .and_then(|s| s.data().ok());
        if ours.is_none() || ours != theirs {
            return Err(SizeError::TwinDiffers {
                name: name.to_string(),
                section: section.name.clone(),
            });
        }
    }
    Ok(())
}

/// The twin's data symbols as (package, section, bytes in the file), not
/// overlapping each other nor embedded files. `.text` and `.gopclntab` are
/// the pclntab's; bss takes no file bytes.
fn twin_data(
    twin: &object::File,
    sections: &[Section],
    embedded: &[(u64, u64)],
) -> Vec<(Option<String>, String, u64)> {
    // (start, end, package, section) in the shipped file's offsets.
    let mut symbols: Vec<(u64, u64, Option<String>, String)> = Vec::new();
    for symbol in twin.symbols() {
        let (Some(index), Ok(name)) = (symbol.section_index(), symbol.name()) else {
            continue;
        };
        let Ok(section) = twin.section_by_index(index) else {
            continue;
        };
        let Ok(section_name) = section.name() else {
            continue;
        };
        if symbol.size() == 0 || matches!(section_name, ".text" | ".gopclntab") {
            continue;
        }
        let Some(ours) = sections.iter().find(|s| s.name == section_name) else {
            continue;
        };
        let Some(relative) = symbol.address().checked_sub(section.address()) else {
            continue;
        };
        let start = ours.offset + relative;
        let end = (start + symbol.size()).min(ours.offset + ours.size);
        if start < end {
            symbols.push((
                start,
                end,
                names::package_of(name),
                section_name.to_string(),
            ));
        }
    }
    symbols.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut covered_to = 0;
    let mut out = Vec::new();
    for (start, end, package, section) in symbols {
        let start = start.max(covered_to);
        if start >= end {
            continue;
        }
        covered_to = end;
        let overlap: u64 = embedded
            .iter()
            .map(|&(a, b)| end.min(b).saturating_sub(start.max(a)))
            .sum();
        let bytes = (end - start).saturating_sub(overlap);
        if bytes > 0 {
            out.push((package, section, bytes));
        }
    }
    out
}

/// Real binaries built by the host's `go` for the tests of `size`,
/// `size::render` and `size::gate`.
#[cfg(test)]
pub(crate) mod testbin {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// `go build` of `package` in `module_dir` with golb's flags; `stripped`
    /// adds `-s -w` as golb does, without it this is the twin.
    pub fn go_build(
        module_dir: &Path,
        package: &str,
        stripped: bool,
        extra_ldflags: &str,
    ) -> Vec<u8> {
        let scratch = tempfile::tempdir().unwrap();
        let out = scratch.path().join("bin");
        let ldflags = format!(
            "{}-buildid= {extra_ldflags}",
            if stripped { "-s -w " } else { "" }
        );
        let status = Command::new("go")
            .current_dir(module_dir)
            .env("CGO_ENABLED", "0")
            .args([
                "build",
                "-trimpath",
                "-buildvcs=false",
                "-ldflags",
                &ldflags,
                "-o",
            ])
            .arg(&out)
            .arg(package)
            .status()
            .expect("go on PATH");
        assert!(
            status.success(),
            "go build {package} in {}",
            module_dir.display()
        );
        std::fs::read(&out).unwrap()
    }

    /// (main module, dependency modules) as `go version -m` reads the build info.
    pub fn modules(binary: &[u8]) -> (String, Vec<String>) {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("bin");
        std::fs::write(&path, binary).unwrap();
        let out = Command::new("go")
            .args(["version", "-m"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut main = String::new();
        let mut deps = Vec::new();
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["mod", path, ..] => main = path.to_string(),
                ["dep", path, ..] => deps.push(path.to_string()),
                _ => {}
            }
        }
        (main, deps)
    }

    /// `go tool nm -size` of an unstripped binary: (size, type, name) per symbol.
    pub fn nm(binary: &[u8]) -> Vec<(u64, char, String)> {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("bin");
        std::fs::write(&path, binary).unwrap();
        let out = Command::new("go")
            .args(["tool", "nm", "-size"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| {
                let mut f = line.split_whitespace();
                let (_addr, size, kind) = (f.next()?, f.next()?, f.next()?);
                let name = f.collect::<Vec<_>>().join(" ");
                Some((size.parse().ok()?, kind.chars().next()?, name))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testbin::*;
    use super::*;
    use std::collections::BTreeMap;

    fn report(binary: &[u8], twin: Option<&[u8]>, embedded: &[EmbeddedFile]) -> SizeReport {
        let (main, deps) = modules(binary);
        attribute(&Input {
            name: "server",
            binary,
            modules: Modules {
                main: &main,
                dependencies: &deps,
            },
            twin,
            embedded,
        })
        .unwrap()
    }

    fn total(report: &SizeReport) -> u64 {
        report.owners.iter().map(|o| o.bytes).sum::<u64>()
            + report.not_attributed.iter().map(|p| p.bytes).sum::<u64>()
    }

    fn owner<'a>(report: &'a SizeReport, name: &str) -> &'a OwnerSize {
        report
            .owners
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no owner {name} in {:?}",
                    report.owners.iter().map(|o| &o.name).collect::<Vec<_>>()
                )
            })
    }

    /// examples/heavy (grpc, prometheus, yaml): every byte is accounted for,
    /// and the code per module matches `go tool nm -size` of the twin.
    #[test]
    fn heavy_code_by_module_matches_the_symbol_table() {
        let dir = repo().join("examples/heavy");
        let binary = go_build(&dir, "./cmd/server", true, "");
        let twin = go_build(&dir, "./cmd/server", false, "");
        let stripped = report(&binary, None, &[]);
        let exact = report(&binary, Some(&twin), &[]);
        for r in [&stripped, &exact] {
            assert_eq!(total(r), binary.len() as u64, "{:?}", r.method);
        }
        assert_eq!(
            owner(&stripped, "example.com/heavy").kind,
            OwnerKind::MainModule
        );
        assert_eq!(
            owner(&stripped, "google.golang.org/grpc").kind,
            OwnerKind::Dependency
        );
        assert_eq!(owner(&stripped, "std").kind, OwnerKind::StandardLibrary);
        assert!(!stripped
            .owners
            .iter()
            .any(|o| o.kind == OwnerKind::UnknownModule));

        // nm's text symbols per owner against the pclntab's code per owner.
        let (main, deps) = modules(&binary);
        let modules = Modules {
            main: &main,
            dependencies: &deps,
        };
        let mut nm_code: BTreeMap<String, u64> = BTreeMap::new();
        for (size, kind, name) in nm(&twin) {
            if matches!(kind, 'T' | 't') {
                if let Some(package) = names::package_of(&name) {
                    let key = match modules.owner(&package) {
                        Owner::MainModule => main.clone(),
                        Owner::Dependency(m) => m,
                        _ => "std".into(),
                    };
                    *nm_code.entry(key).or_default() += size;
                }
            }
        }
        let mut lines: Vec<(String, u64, u64)> = Vec::new();
        for o in &stripped.owners {
            let code: u64 = o.packages.iter().map(|p| p.code).sum();
            let nm = nm_code.get(&o.name).copied().unwrap_or(0);
            lines.push((o.name.clone(), code, nm));
        }
        let shown: Vec<String> = lines
            .iter()
            .map(|(n, c, m)| format!("{n} pclntab={c} nm={m}"))
            .collect();
        eprintln!("{}", shown.join("\n"));
        // The pclntab counts the padding up to the next function (32-byte
        // alignment on amd64), nm the symbol alone: the pclntab is never
        // below nm, at most a fifth above for a small module, and within
        // 6 % over the whole binary.
        for (name, code, nm) in &lines {
            assert!(
                code >= nm && code - nm <= code / 5 + 64,
                "{name}: {code} vs {nm}"
            );
        }
        let (code, nm): (u64, u64) = lines
            .iter()
            .fold((0, 0), |(a, b), (_, c, m)| (a + c, b + m));
        eprintln!(
            "all code: pclntab={code} nm={nm} ({:.2} % above)",
            100.0 * (code - nm) as f64 / nm as f64
        );
        assert!(code - nm <= code * 6 / 100);
        // The twin attributes data on top of the same code.
        let with_data = owner(&exact, "google.golang.org/protobuf");
        assert!(with_data.packages.iter().map(|p| p.data).sum::<u64>() > 0);
        let attributed = |r: &SizeReport| r.owners.iter().map(|o| o.bytes).sum::<u64>();
        eprintln!(
            "file {} attributed: pclntab {} ({:.1} %), twin {} ({:.1} %)",
            binary.len(),
            attributed(&stripped),
            100.0 * attributed(&stripped) as f64 / binary.len() as f64,
            attributed(&exact),
            100.0 * attributed(&exact) as f64 / binary.len() as f64,
        );
        assert!(attributed(&exact) > attributed(&stripped));
    }

    /// A twin from another link (a different -X) is refused, not trusted.
    #[test]
    fn a_twin_of_another_link_is_refused() {
        let dir = repo().join("examples/hello");
        let binary = go_build(&dir, "./cmd/server", true, "");
        let other = go_build(&dir, "./cmd/server", false, "-X main.version=other");
        let (main, deps) = modules(&binary);
        let err = attribute(&Input {
            name: "server",
            binary: &binary,
            modules: Modules {
                main: &main,
                dependencies: &deps,
            },
            twin: Some(&other),
            embedded: &[],
        })
        .unwrap_err();
        assert!(matches!(err, SizeError::TwinDiffers { .. }), "{err}");
    }

    /// examples/assets embeds static/index.html into package main.
    #[test]
    fn embedded_files_are_found_and_attributed() {
        let dir = repo().join("examples/assets");
        let binary = go_build(&dir, "./cmd/site", true, "");
        let page = std::fs::read(dir.join("cmd/site/static/index.html")).unwrap();
        let embedded = [
            EmbeddedFile {
                package: "main".into(),
                path: "static/index.html".into(),
                content: page.clone(),
            },
            EmbeddedFile {
                package: "main".into(),
                path: "static/missing.txt".into(),
                content: b"this text is in no binary \x01\x02\x03".to_vec(),
            },
        ];
        let r = report(&binary, None, &embedded);
        assert_eq!(total(&r), binary.len() as u64);
        let main = owner(&r, "example.com/assets");
        let package = main.packages.iter().find(|p| p.package == "main").unwrap();
        assert_eq!(package.embedded, page.len() as u64);
        assert_eq!(package.embedded_files[0].name, "static/index.html");
        assert_eq!(
            r.embedded_not_found,
            vec!["main: static/missing.txt".to_string()]
        );
    }

    #[test]
    fn a_non_elf_file_is_an_error() {
        let err = attribute(&Input {
            name: "server",
            binary: b"#!/bin/sh\necho hi\n",
            modules: Modules {
                main: "x",
                dependencies: &[],
            },
            twin: None,
            embedded: &[],
        })
        .unwrap_err();
        assert!(
            err.to_string().starts_with("server: not an ELF file"),
            "{err}"
        );
    }
}
