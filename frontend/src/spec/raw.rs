//! The spec exactly as TOML gives it: every key spanned, unknown keys refused.
//! Meaning (defaults, checks) is given in `spec::validate`, not here.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub builder: Option<Spanned<RawBuilder>>,
    #[serde(default)]
    pub binary: Vec<Spanned<RawBinary>>,
    pub runtime: Option<Spanned<RawRuntime>>,
    pub test: Option<Spanned<RawTest>>,
    pub modules: Option<Spanned<RawModules>>,
    #[serde(default)]
    pub args: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub file: Vec<Spanned<RawFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModules {
    pub proxy: Option<Spanned<String>>,
    pub private: Option<Spanned<String>>,
    pub nosumdb: Option<Spanned<String>>,
    pub noproxy: Option<Spanned<String>>,
    pub flags: Option<Spanned<String>>,
    pub ssh: Option<Spanned<Vec<Spanned<String>>>>,
    pub known_hosts: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub src: Option<Spanned<String>>,
    pub dest: Option<Spanned<String>>,
    pub owner: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    pub packages: Option<Spanned<Vec<Spanned<String>>>>,
    pub flags: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBuilder {
    pub go: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    pub module: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBinary {
    pub package: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub ldflags: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    pub base: Option<Spanned<String>>,
    pub user: Option<Spanned<String>>,
    pub entrypoint: Option<Spanned<Vec<String>>>,
    pub args: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub expose: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    pub labels: BTreeMap<Spanned<String>, Spanned<String>>,
    pub workdir: Option<Spanned<String>>,
}
