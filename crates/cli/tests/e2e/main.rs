//! End-to-end tests: the real `flowwatch serve` binary on an ephemeral port, driven by the real
//! aws CLI, boto3 and the AWS SDK for Rust.

mod support;

mod alarms;
mod auth;
mod aws_cli;
mod boto3;
mod capture;
mod client;
mod cloudtrail;
mod crash;
mod cw_protocols;
mod filter;
mod flow_logs;
mod groups;
mod hostile;
mod iam;
mod insights;
mod live_capture;
mod metric_filters;
mod metrics;
mod protocol;
mod query_files;
mod s3;
mod s3_delivery;
mod sdk;
mod streams;
mod tagging;
mod trail_files;
