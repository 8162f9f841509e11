//! What every HTTP service of the pipeline shares.
//!
//! - [`ops`]: `GET /healthz`, `GET /readyz` and `GET /metrics`;
//! - [`auth`]: bearer-token checks for operator endpoints;
//! - [`ApiError`]: how operator endpoints answer failures.

pub mod auth;
mod error;
pub mod ops;

pub use auth::{Authorized, RequiredToken};
pub use error::ApiError;
