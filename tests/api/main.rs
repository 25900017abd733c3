//! HTTP tests of sajin: each starts the real server on a loopback port over a temporary data
//! directory and talks to it as a client would. One test binary, one module per area.

mod api_keys;
mod connections;
mod delete_links;
mod disk_reserve;
mod duplicates;
mod executor_stalls;
mod expiry;
mod file_serving;
mod helpers;
mod image_formats;
mod metrics;
mod persistence;
mod photo_metadata;
mod polyglots;
mod public_urls;
mod response_formats;
mod size_limits;
mod storage_layout;
mod upload_methods;
mod upload_parameters;
mod upload_response;
mod upload_sources;
mod video_clips;
mod video_pages;
mod video_startup;
mod videos;
mod viewer;
mod web_pages;
mod web_session;
mod web_uploads;
mod write_order;
