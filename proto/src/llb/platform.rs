//! Target platforms, normalized the way containerd does so that "linux/aarch64" and
//! "linux/arm64/v8" name the same thing (BuildKit compares normalized forms).

use std::fmt;

use super::pb;

#[derive(Debug, thiserror::Error)]
#[error("invalid platform {input:?}: {reason}")]
pub struct PlatformError {
    pub input: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`. Only the explicit form is accepted: a bare "arm64" would
    /// have to guess the OS, and a frontend should not guess on the user's behalf.
    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        let err = |reason| PlatformError {
            input: s.to_string(),
            reason,
        };
        let parts: Vec<&str> = s.trim().split('/').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(err("expected os/arch or os/arch/variant"));
        }
        for part in &parts {
            if part.is_empty() {
                return Err(err("empty component"));
            }
            if !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            {
                return Err(err(
                    "components may only contain letters, digits, '_', '.' and '-'",
                ));
            }
        }
        Ok(Platform::normalized(
            parts[0],
            parts[1],
            parts.get(2).copied().unwrap_or(""),
        ))
    }

    pub fn linux_amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    /// Applies containerd's `platforms.Normalize` rules.
    pub fn normalized(os: &str, architecture: &str, variant: &str) -> Platform {
        let mut os = os.to_ascii_lowercase();
        if os == "macos" {
            os = "darwin".into();
        }
        let mut arch = architecture.to_ascii_lowercase();
        let mut variant = variant.to_ascii_lowercase();
        match arch.as_str() {
            "i386" => {
                arch = "386".into();
                variant.clear();
            }
            "x86_64" | "x86-64" | "amd64" => {
                arch = "amd64".into();
                if variant == "v1" {
                    variant.clear();
                }
            }
            "aarch64" | "arm64" => {
                arch = "arm64".into();
                match variant.as_str() {
                    "8" | "v8" | "v8.0" => variant.clear(),
                    "9" | "9.0" | "v9.0" => variant = "v9".into(),
                    _ => {}
                }
            }
            "armhf" => {
                arch = "arm".into();
                variant = "v7".into();
            }
            "armel" => {
                arch = "arm".into();
                variant = "v6".into();
            }
            "arm" => match variant.as_str() {
                "" | "7" => variant = "v7".into(),
                "5" | "6" | "8" => variant = format!("v{variant}"),
                _ => {}
            },
            _ => {}
        }
        Platform {
            os,
            architecture: arch,
            variant: (!variant.is_empty()).then_some(variant),
        }
    }

    pub fn to_pb(&self) -> pb::Platform {
        pb::Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().unwrap_or_default(),
            ..Default::default()
        }
    }

    pub fn from_pb(p: &pb::Platform) -> Platform {
        Platform::normalized(&p.os, &p.architecture, &p.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Platform::parse(s)
            .map(|p| p.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn parses_and_normalizes() {
        assert_eq!(norm("linux/amd64"), "linux/amd64");
        assert_eq!(norm("linux/x86_64"), "linux/amd64");
        assert_eq!(norm("linux/x86-64"), "linux/amd64");
        assert_eq!(norm("linux/arm64"), "linux/arm64");
        assert_eq!(norm("linux/aarch64"), "linux/arm64");
        assert_eq!(norm("linux/arm64/v8"), "linux/arm64");
        assert_eq!(norm("linux/arm"), "linux/arm/v7");
        assert_eq!(norm("linux/arm/7"), "linux/arm/v7");
        assert_eq!(norm("linux/arm/v6"), "linux/arm/v6");
        assert_eq!(norm("linux/armhf"), "linux/arm/v7");
        assert_eq!(norm("Linux/AMD64"), "linux/amd64");
        assert_eq!(norm("linux/riscv64"), "linux/riscv64");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v1/x",
            "linux/amd 64",
        ] {
            let err = Platform::parse(bad).expect_err(bad);
            assert_eq!(err.input, bad);
            assert!(err.to_string().contains(&format!("{bad:?}")));
        }
    }

    #[test]
    fn pb_round_trip() {
        let p = Platform::parse("linux/arm/v7").expect("valid");
        let pbp = p.to_pb();
        assert_eq!(pbp.variant, "v7");
        assert_eq!(Platform::from_pb(&pbp), p);
        assert_eq!(Platform::linux_amd64().to_pb().variant, "");
    }
}
