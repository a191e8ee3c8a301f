//! size gate
