//! clv
pub mod special;
