//! The Chevereto-compatible upload API (`/api/1/upload`): request parsing, errors in
//! Chevereto's shape, and the success answer.

pub mod error;
pub mod form;
pub mod params;
pub mod response;
pub mod upload;
