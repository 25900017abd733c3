//! Black-box reliability tests of the built `sajin` binary: killed mid-storm, slow and broken
//! clients, and a database from an older schema. Each test owns its data directory and its
//! server processes, which end when the test does, passing or not.

mod crash;
mod server;
mod slow_clients;
mod upgrade;
