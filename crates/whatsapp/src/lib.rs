//! WhatsApp Cloud API plumbing shared by the services.

pub mod signature;
