//! Speaks BuildKit: a typed LLB builder with deterministic marshaling ([`llb`]) and the
//! gateway (LLBBridge) client a frontend drives over its stdio pipes ([`gateway`]), and a
//! client of the registry API for what golb asks registries directly ([`registry`]).
//! Knows nothing about what is being built.

// No unwrap/expect outside tests: every failure becomes an error with context.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod gateway;
pub mod llb;
pub mod registry;
pub mod subrequests;
