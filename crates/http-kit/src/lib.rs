//! What every HTTP service of the pipeline shares.
//!
//! - [`ops`]: `GET /healthz`, `GET /readyz` and `GET /metrics`;
//! - [`auth`]: bearer-token checks for operator endpoints.

pub mod auth;
pub mod ops;
