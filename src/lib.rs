//! sajin: a self-hosted image host for the home network that speaks Chevereto's upload API.
//!
//! The binary in `main.rs` only parses the command line and calls into this library, so the
//! integration tests drive exactly the code that runs in production. Layers, from the edge in:
//! `routes` and `api` (HTTP, actix), `upload` (the one upload path) and `purge`, then `imaging`,
//! `video`, `storage` and `db`, which know nothing of HTTP.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod fetch;
pub mod imaging;
pub mod links;
pub mod purge;
pub mod routes;
pub mod session;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod upload;
pub mod video;
