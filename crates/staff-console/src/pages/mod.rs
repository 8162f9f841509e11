//! The console's pages: each module renders one section and handles its forms.

pub mod conversation;
pub mod inbox;
pub mod keyset;
pub mod layout;
pub mod leads;
pub mod login;
pub mod notifications;
pub mod operations;
pub mod words;
