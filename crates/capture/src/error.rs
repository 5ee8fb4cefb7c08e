//! The one error type of this crate.

/// Everything that can stop a capture from being read or a flow table from being built.
/// Bad packets are never errors: they are counted in [`Stats`](crate::Stats).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("reading the capture: {source}")]
    Io {
        #[source]
        source: std::io::Error,
    },
    #[error("not a pcap or pcapng file (starts with {magic:02x?})")]
    UnknownFormat { magic: Vec<u8> },
    #[error("invalid {format} file: {detail}")]
    Malformed {
        format: &'static str,
        detail: String,
    },
    #[error(
        "unsupported link type {link_type} (supported: Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback)"
    )]
    UnsupportedLinkType { link_type: u32 },
    #[error("invalid aggregation interval {seconds} s: expected 60 or 600")]
    InvalidInterval { seconds: u64 },
    #[error("invalid max_flows 0: the flow table needs room for at least one flow")]
    ZeroMaxFlows,
    #[error("{count} interfaces: one flow table tells at most {max} apart")]
    TooManyInterfaces { count: usize, max: usize },
    #[error("unknown interface index {index}")]
    UnknownInterface { index: usize },
    #[error("{what}: {source}")]
    Live {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<std::io::Error> for CaptureError {
    fn from(source: std::io::Error) -> Self {
        Self::Io { source }
    }
}

impl CaptureError {
    /// Maps a pcap-file error to ours, keeping I/O errors as such.
    pub(crate) fn pcap(format: &'static str, e: pcap_file::PcapError) -> Self {
        match e {
            pcap_file::PcapError::IoError(source)
                if source.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                Self::Malformed {
                    format,
                    detail: "the file ends inside a header".into(),
                }
            }
            pcap_file::PcapError::IoError(source) => Self::Io { source },
            other => Self::Malformed {
                format,
                detail: other.to_string(),
            },
        }
    }
}

/// `Result` with [`CaptureError`].
pub type Result<T, E = CaptureError> = std::result::Result<T, E>;
