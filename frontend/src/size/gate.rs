//! The size gate: a pure decision over figures golb already has. Over an
//! absolute budget, or grown past a growth budget since a baseline image,
//! the build fails with the figures and the three biggest contributors from
//! the size reports (the biggest growths when the baseline has reports).
//!
//! Bytes are uncompressed layer bytes (the files' sizes): what a frontend
//! knows of the image it builds before any exporter compresses it, and what
//! it can read from a baseline image mounted into a step. Compressed sizes
//! depend on the exporter's compression and level.

use super::render::human;
use super::{OwnerKind, SizeReport};
use std::collections::BTreeMap;

/// Which bytes an absolute budget limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// The whole image: the base's layers plus golb's.
    Image,
    /// golb's layer alone (the binaries).
    GolbLayer,
}

impl Measure {
    fn label(self) -> &'static str {
        match self {
            Measure::Image => "the image",
            Measure::GolbLayer => "golb's layer",
        }
    }
}

/// The budgets a spec sets; None for a budget it does not set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    /// `max_image_size`: the whole image, uncompressed.
    pub max_image: Option<u64>,
    /// `max_layer_size`: golb's layer, uncompressed.
    pub max_layer: Option<u64>,
    /// `max_growth`: of the whole image since the baseline.
    pub max_growth: Option<u64>,
}

/// What the gate knows of one image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSize {
    /// Uncompressed bytes of the base's layers.
    pub base_bytes: u64,
    /// Uncompressed bytes of golb's layer.
    pub golb_layer_bytes: u64,
    /// A report per binary (may be empty for a baseline built without them).
    pub reports: Vec<SizeReport>,
}

impl ImageSize {
    fn bytes(&self, measure: Measure) -> u64 {
        match measure {
            Measure::Image => self.base_bytes + self.golb_layer_bytes,
            Measure::GolbLayer => self.golb_layer_bytes,
        }
    }
}

/// One of the biggest contributors: "server: google.golang.org/grpc" and its
/// bytes, or its growth for a growth budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contributor {
    pub name: String,
    pub bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("{} is {} ({} bytes), over its budget of {} ({} bytes); biggest contributors: {}", .measure.label(), human(*.bytes), .bytes, human(*.budget), .budget, list(.contributors, false))]
    OverBudget {
        measure: Measure,
        bytes: u64,
        budget: u64,
        contributors: Vec<Contributor>,
    },
    #[error("the image grew by {} ({} → {} bytes) since the baseline, over its growth budget of {} ({} bytes); biggest growth: {}", human(.growth.unsigned_abs()), .baseline, .bytes, human(*.budget), .budget, list(.contributors, true))]
    GrewTooMuch {
        baseline: u64,
        bytes: u64,
        growth: i64,
        budget: u64,
        contributors: Vec<Contributor>,
    },
}

/// "server: grpc 1.1 MB, …"; growths get a sign.
fn list(contributors: &[Contributor], growth: bool) -> String {
    if contributors.is_empty() {
        return "none known (no size report)".into();
    }
    contributors
        .iter()
        .map(|c| {
            let sign = if growth { "+" } else { "" };
            format!("{} {sign}{}", c.name, human(c.bytes.unsigned_abs()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks `current` against `budget` (and `baseline` for the growth budget).
/// Every violated budget is returned, absolute ones first.
pub fn check(
    current: &ImageSize,
    baseline: Option<&ImageSize>,
    budget: &Budget,
) -> Result<(), Vec<GateError>> {
    let mut errors = Vec::new();
    for (measure, limit) in [
        (Measure::Image, budget.max_image),
        (Measure::GolbLayer, budget.max_layer),
    ] {
        let bytes = current.bytes(measure);
        if let Some(limit) = limit.filter(|&l| bytes > l) {
            errors.push(GateError::OverBudget {
                measure,
                bytes,
                budget: limit,
                contributors: biggest(&current.reports, None),
            });
        }
    }
    if let (Some(limit), Some(base)) = (budget.max_growth, baseline) {
        let (before, after) = (base.bytes(Measure::Image), current.bytes(Measure::Image));
        let growth = after as i64 - before as i64;
        if growth > limit as i64 {
            let contributors = if base.reports.is_empty() {
                biggest(&current.reports, None)
            } else {
                biggest(&current.reports, Some(&base.reports))
            };
            errors.push(GateError::GrewTooMuch {
                baseline: before,
                bytes: after,
                growth,
                budget: limit,
                contributors,
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Renders gate errors as the build's failure message.
pub fn message(errors: &[GateError]) -> String {
    errors
        .iter()
        .map(|e| format!("size gate: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The three biggest (binary, module) contributors, or the three biggest
/// growths against `baseline`. Modules rather than packages: a module is what
/// a pull request adds or bumps. Bytes not attributed count as one entry.
fn biggest(reports: &[SizeReport], baseline: Option<&[SizeReport]>) -> Vec<Contributor> {
    let sizes = |reports: &[SizeReport]| {
        let mut map: BTreeMap<String, i64> = BTreeMap::new();
        for report in reports {
            for owner in &report.owners {
                let name = match owner.kind {
                    OwnerKind::StandardLibrary => "standard library",
                    _ => &owner.name,
                };
                *map.entry(format!("{}: {name}", report.binary)).or_default() += owner.bytes as i64;
            }
            let rest: u64 = report.not_attributed.iter().map(|p| p.bytes).sum();
            *map.entry(format!("{}: not attributed", report.binary))
                .or_default() += rest as i64;
        }
        map
    };
    let mut now = sizes(reports);
    if let Some(baseline) = baseline {
        for (name, before) in sizes(baseline) {
            *now.entry(name).or_default() -= before;
        }
    }
    let mut list: Vec<Contributor> = now
        .into_iter()
        .filter(|(_, b)| *b > 0)
        .map(|(name, bytes)| Contributor { name, bytes })
        .collect();
    list.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    list.truncate(3);
    list
}

/// Parses a budget as a spec writes it: `"5MB"`, `"5 MB"`, `"512kB"`,
/// `"1.5GB"`, `"20MiB"`, or a plain number of bytes. Units of 1000 (B, kB,
/// MB, GB) and of 1024 (KiB, MiB, GiB).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
            "{text:?}: unknown unit {other:?}; write bytes as e.g. \"5MB\", \"512kB\" or \"20MiB\""
        ))
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: write a size as a number and a unit, e.g. \"5MB\""))?;
    Ok((value * factor as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::super::testbin::*;
    use super::super::{attribute, names::Modules, Input};
    use super::*;
    use std::path::Path;

    fn image(dir: &Path) -> (ImageSize, usize) {
        let binary = go_build(dir, "./cmd/server", true, "");
        let (main, deps) = modules(&binary);
        let report = attribute(&Input {
            name: "server",
            binary: &binary,
            modules: Modules {
                main: &main,
                dependencies: &deps,
            },
            twin: None,
            embedded: &[],
        })
        .unwrap();
        // The distroless stand-in's files are about 1 MB; the figure only has
        // to be the same for both images.
        (
            ImageSize {
                base_bytes: 1_000_000,
                golb_layer_bytes: binary.len() as u64 + 1024,
                reports: vec![report],
            },
            binary.len(),
        )
    }

    /// examples/hello, then the same service with gopkg.in/yaml.v3 added:
    /// a 50 kB growth budget fails and names the new module.
    #[test]
    fn a_dependency_added_between_two_builds_fails_the_growth_budget() {
        let hello = repo().join("examples/hello");
        let (before, _) = image(&hello);

        let scratch = tempfile::tempdir().unwrap();
        let copy = scratch.path().join("hello");
        std::fs::create_dir_all(copy.join("cmd/server")).unwrap();
        for file in ["go.mod", "cmd/server/main.go"] {
            std::fs::copy(hello.join(file), copy.join(file)).unwrap();
        }
        let heavy_sum = std::fs::read_to_string(repo().join("examples/heavy/go.sum")).unwrap();
        let yaml_sum: String = heavy_sum
            .lines()
            .filter(|l| l.starts_with("gopkg.in/yaml.v3 "))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(copy.join("go.sum"), yaml_sum).unwrap();
        let go_mod = std::fs::read_to_string(copy.join("go.mod")).unwrap();
        std::fs::write(
            copy.join("go.mod"),
            go_mod + "\nrequire gopkg.in/yaml.v3 v3.0.1\n",
        )
        .unwrap();
        std::fs::write(
            copy.join("cmd/server/yaml.go"),
            "package main\n\nimport \"gopkg.in/yaml.v3\"\n\nfunc init() { _, _ = yaml.Marshal(map[string]int{\"a\": 1}) }\n",
        )
        .unwrap();
        let (after, _) = image(&copy);

        let budget = Budget {
            max_growth: Some(parse_bytes("50kB").unwrap()),
            ..Budget::default()
        };
        let errors = check(&after, Some(&before), &budget).unwrap_err();
        let GateError::GrewTooMuch {
            growth,
            contributors,
            ..
        } = &errors[0]
        else {
            panic!("{errors:?}");
        };
        assert_eq!(
            *growth,
            after.golb_layer_bytes as i64 - before.golb_layer_bytes as i64
        );
        // yaml.v3 itself, and the standard library it pulls in (reflect,
        // strconv…), which grows even more on examples/hello.
        let names: Vec<&str> = contributors.iter().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"server: gopkg.in/yaml.v3"), "{names:?}");
        assert!(names.contains(&"server: standard library"), "{names:?}");
        assert_eq!(contributors.len(), 3);
        let text = message(&errors);
        assert!(text.starts_with("size gate: the image grew by "), "{text}");
        assert!(text.contains("server: gopkg.in/yaml.v3 +"), "{text}");
        eprintln!("{text}");

        // The same change under a budget it fits passes; shrinking always passes.
        let roomy = Budget {
            max_growth: Some(*growth as u64),
            ..Budget::default()
        };
        assert_eq!(check(&after, Some(&before), &roomy), Ok(()));
        assert_eq!(check(&before, Some(&after), &budget), Ok(()));
    }

    #[test]
    fn absolute_budgets_name_the_three_biggest_modules() {
        let (hello, size) = image(&repo().join("examples/hello"));
        let budget = Budget {
            max_image: Some(2_000_000),
            max_layer: Some(size as u64 * 2),
            max_growth: None,
        };
        let errors = check(&hello, None, &budget).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let GateError::OverBudget {
            measure,
            bytes,
            contributors,
            ..
        } = &errors[0]
        else {
            panic!("{errors:?}");
        };
        assert_eq!(*measure, Measure::Image);
        assert_eq!(*bytes, 1_000_000 + size as u64 + 1024);
        assert_eq!(contributors[0].name, "server: standard library");
        let text = message(&errors);
        assert!(text.starts_with("size gate: the image is "), "{text}");
        assert!(
            text.contains("biggest contributors: server: standard library "),
            "{text}"
        );
        let layer_only = Budget {
            max_layer: Some(size as u64 / 2),
            ..Budget::default()
        };
        let errors = check(&hello, None, &layer_only).unwrap_err();
        assert!(message(&errors).starts_with("size gate: golb's layer is "));
    }

    #[test]
    fn budgets_as_specs_write_them() {
        assert_eq!(parse_bytes("5MB"), Ok(5_000_000));
        assert_eq!(parse_bytes("5 MB"), Ok(5_000_000));
        assert_eq!(parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_bytes("20MiB"), Ok(20 << 20));
        assert_eq!(parse_bytes("512kB"), Ok(512_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("5 megs").unwrap_err().contains("unknown unit"));
        assert!(parse_bytes("MB").is_err());
    }
}
