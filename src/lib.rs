//! sajin: a self-hosted image host for the home network that speaks Chevereto's upload API.
//!
//! The binary in `main.rs` only parses the command line and calls into this library, so the
//! integration tests drive exactly the code that runs in production. Layers, from the edge in:
//! `routes` and `api` (HTTP, actix), `upload` (the one upload path) and `purge`, then `imaging`,
//! `video`, `storage`, `disk` and `db`, which know nothing of HTTP. `consistency` and `backup`
//! are the maintenance commands over the same layers; `metrics` counts what the server does.

pub mod api;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod consistency;
pub mod data_lock;
pub mod db;
pub mod disk;
pub mod domain;
pub mod fetch;
pub mod imaging;
pub mod links;
pub mod metrics;
pub mod purge;
pub mod routes;
pub mod session;
pub mod startup;
pub mod storage;
pub mod systemd;
pub mod telemetry;
pub mod upload;
pub mod video;
