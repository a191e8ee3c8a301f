//! Speaks BuildKit: a typed LLB builder with deterministic marshaling ([`llb`]) and the
//! gateway (LLBBridge) client a frontend drives over its stdio pipes ([`gateway`]).
//! Knows nothing about what is being built.

pub mod gateway;
pub mod llb;
