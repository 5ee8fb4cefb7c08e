//! Load generators and workloads for flowwatch's benchmarks (`ingest-bench`, and the criterion
//! benchmarks that share [`workload`]).

pub mod workload;
