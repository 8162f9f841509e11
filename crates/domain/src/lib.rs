//! Types and rules of the WhatsApp pipeline that need no I/O: the Cloud API webhook
//! envelope, and (as the pipeline grows) conversation state and the outbound text policy.
//!
//! This crate must never depend on diesel, actix or reqwest.

pub mod webhook;
