//! End-to-end tests: the real `flowwatch serve` binary on an ephemeral port, driven by the real
//! aws CLI, boto3 and the AWS SDK for Rust.

mod support;

mod aws_cli;
mod boto3;
mod groups;
mod protocol;
mod sdk;
mod streams;
mod tagging;
