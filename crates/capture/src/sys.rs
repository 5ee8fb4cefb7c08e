//! With `ring.rs` (the memory a `TPACKET_V3` ring shares with the kernel), the only unsafe
//! code of the crate: a small safe wrapper over the Linux socket calls live capture needs
//! (`AF_PACKET` and `NETLINK_NETFILTER` sockets, `poll`, interface names and addresses).
//! Every function here checks its return value and hands out owned, safe types; buffers are
//! passed with their lengths, structures are zero-initialised before the kernel fills them.
#![expect(
    unsafe_code,
    reason = "system calls without a safe wrapper in our dependencies (see the module docs)"
)]

use std::ffi::{CStr, CString};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::ring::{self, Ring};

/// `ETH_P_ALL` in network byte order, as `socket` and `sockaddr_ll` want it.
fn eth_p_all_be() -> u16 {
    (libc::ETH_P_ALL as u16).to_be()
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain system call; on success the descriptor is ours alone.
    let fd = check(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: `fd` was just returned by `socket` and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_opt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

fn set_timeout(fd: RawFd, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    set_opt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
}

/// Asks for a receive buffer of `bytes`: beyond `rmem_max` with CAP_NET_ADMIN, else as much as
/// the system allows.
fn set_rcvbuf(fd: RawFd, bytes: usize) {
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    if set_opt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
        let _ = set_opt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size);
    }
}

/// `None` for a timeout or an interrupted call, the error otherwise.
fn would_block(e: io::Error) -> io::Result<()> {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted => Ok(()),
        _ => Err(e),
    }
}

/// The index of the interface called `name`.
pub(crate) fn if_index(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `c` is a valid NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no network interface {name:?}"),
        )),
        index => Ok(index),
    }
}

/// The IPv4 and IPv6 addresses of interface `name`, in the order the kernel lists them (the
/// primary IPv4 address first).
pub(crate) fn if_addrs(name: &str) -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `getifaddrs` fills `head` with a list we free below.
    check(unsafe { libc::getifaddrs(&mut head) })?;
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list `getifaddrs` returned, not yet freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: `ifa_name` is a NUL-terminated string owned by the list.
        if unsafe { CStr::from_ptr(ifa.ifa_name) }.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: `ifa_addr` is non-null and its family says which structure it is.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if family == libc::AF_INET {
            // SAFETY: an AF_INET address is a `sockaddr_in`.
            let sin = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in>() };
            out.push(IpAddr::from(
                u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
            ));
        } else if family == libc::AF_INET6 {
            // SAFETY: an AF_INET6 address is a `sockaddr_in6`.
            let sin6 = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in6>() };
            out.push(IpAddr::from(sin6.sin6_addr.s6_addr));
        }
    }
    // SAFETY: `head` came from `getifaddrs` and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// Waits until one of `fds` is readable or `timeout` passes; returns which are readable.
pub(crate) fn poll_readable(
    fds: &[RawFd],
    timeout: Duration,
    ready: &mut Vec<bool>,
) -> io::Result<()> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    ready.clear();
    // SAFETY: `pfds` holds `pfds.len()` initialised entries.
    match check(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) }) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Err(e),
    }
    ready.extend(pfds.iter().map(|p| p.revents != 0));
    Ok(())
}

/// A frame received on a packet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The frame's length on the wire (more than `len` when the buffer was too small).
    pub wire_len: usize,
    /// `PACKET_HOST`, `PACKET_OUTGOING`...
    pub pkttype: u8,
}

/// An `AF_PACKET` raw socket bound to one interface (all protocols).
#[derive(Debug)]
pub(crate) struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    /// Opens and binds; needs CAP_NET_RAW.
    pub(crate) fn open(ifindex: u32, rcvbuf: usize, timeout: Duration) -> io::Result<Self> {
        let socket = Self::unbound()?;
        set_rcvbuf(socket.raw_fd(), rcvbuf);
        set_timeout(socket.raw_fd(), timeout)?;
        socket.bind(ifindex)?;
        Ok(socket)
    }

    /// Opens a socket reading through a `TPACKET_V3` ring ([`ring`]'s sizes, frames cut to
    /// `snaplen` bytes), then binds it; needs CAP_NET_RAW. Fails on kernels or sockets without
    /// TPACKET_V3 or mmap, for the caller to fall back to [`open`](Self::open).
    pub(crate) fn open_ring(ifindex: u32, snaplen: u32) -> io::Result<(Self, Ring)> {
        let socket = Self::unbound()?;
        let fd = socket.raw_fd();
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        set_opt(fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        // TPACKET_V3 copies each frame whole into the ring; a classic BPF program that accepts
        // every packet but returns `snaplen` has the kernel copy only that much (tp_len still
        // says the frame's length), so a block holds three times as many full-size frames.
        let mut program = [libc::sock_filter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: snaplen,
        }];
        let fprog = libc::sock_fprog {
            len: program.len() as libc::c_ushort,
            filter: program.as_mut_ptr(),
        };
        set_opt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)?;
        let req = libc::tpacket_req3 {
            tp_block_size: ring::BLOCK_SIZE,
            tp_block_nr: ring::BLOCK_NR,
            tp_frame_size: ring::FRAME_SIZE,
            tp_frame_nr: ring::BLOCK_SIZE / ring::FRAME_SIZE * ring::BLOCK_NR,
            tp_retire_blk_tov: ring::RETIRE_TOV_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        set_opt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let ring = Ring::map(fd, ring::BLOCK_SIZE, ring::BLOCK_NR)?;
        socket.bind(ifindex)?;
        Ok((socket, ring))
    }

    /// A packet socket that receives nothing yet: created with protocol 0, it gets frames only
    /// once [`bind`](Self::bind) names the protocol and the interface, so no frame of another
    /// interface slips in before (nor into a ring still being set up).
    fn unbound() -> io::Result<Self> {
        Ok(Self {
            fd: socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?,
        })
    }

    /// Binds to interface `ifindex`, all protocols.
    fn bind(&self, ifindex: u32) -> io::Result<()> {
        // SAFETY: all-zero is a valid `sockaddr_ll`.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = eth_p_all_be();
        sll.sll_ifindex = ifindex as libc::c_int;
        // SAFETY: `sll` is a `sockaddr_ll` of the length passed.
        check(unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Receives one frame without waiting longer than the socket's timeout; `None` when
    /// nothing came.
    pub(crate) fn recv(&self, buf: &mut [u8], flags: libc::c_int) -> io::Result<Option<Received>> {
        // SAFETY: all-zero is a valid `sockaddr_ll`.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `buf` and `sll` are writable for the lengths passed.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_TRUNC | flags,
                (&mut sll as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if n < 0 {
            return would_block(io::Error::last_os_error()).map(|()| None);
        }
        let wire_len = n as usize;
        Ok(Some(Received {
            len: wire_len.min(buf.len()),
            wire_len,
            pkttype: sll.sll_pkttype,
        }))
    }

    /// Frames dropped by the kernel since the last call (`PACKET_STATISTICS`, which resets
    /// the counters). A TPACKET_V3 socket answers with a `tpacket_stats_v3`, others with the
    /// `tpacket_stats` it begins with.
    pub(crate) fn take_drops(&self) -> io::Result<u64> {
        // SAFETY: all-zero is a valid `tpacket_stats_v3`.
        let mut stats: libc::tpacket_stats_v3 = unsafe { zeroed() };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `stats` is writable for the length passed (the kernel writes at most that).
        check(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        })?;
        Ok(u64::from(stats.tp_drops))
    }
}

/// `BPF_RET | BPF_K`: a classic BPF `ret #k` (accept `k` bytes of the packet).
const BPF_RET_K: u16 = 0x06;

/// A `NETLINK_NETFILTER` socket (nfnetlink_log speaks over it).
#[derive(Debug)]
pub(crate) struct NetfilterSocket {
    fd: OwnedFd,
}

impl NetfilterSocket {
    pub(crate) fn open(rcvbuf: usize, timeout: Duration) -> io::Result<Self> {
        let fd = socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_NETFILTER)?;
        set_rcvbuf(fd.as_raw_fd(), rcvbuf);
        set_timeout(fd.as_raw_fd(), timeout)?;
        // SAFETY: all-zero is a valid `sockaddr_nl` (port id chosen by the kernel, no groups).
        let mut snl: libc::sockaddr_nl = unsafe { zeroed() };
        snl.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `snl` is a `sockaddr_nl` of the length passed.
        check(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&snl as *const libc::sockaddr_nl).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        })?;
        Ok(Self { fd })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Sends one request to the kernel.
    pub(crate) fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: all-zero is a valid `sockaddr_nl`: port 0 is the kernel.
        let mut snl: libc::sockaddr_nl = unsafe { zeroed() };
        snl.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: `msg` and `snl` are readable for the lengths passed.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&snl as *const libc::sockaddr_nl).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives one datagram (several netlink messages); `Ok(None)` on timeout. An overrun
    /// of the socket buffer is `ENOBUFS` (the kernel dropped messages).
    pub(crate) fn recv(&self, buf: &mut [u8], flags: libc::c_int) -> io::Result<Option<usize>> {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags,
            )
        };
        if n < 0 {
            return would_block(io::Error::last_os_error()).map(|()| None);
        }
        Ok(Some((n as usize).min(buf.len())))
    }
}

/// `MSG_DONTWAIT`, to drain a socket without waiting.
pub(crate) const DONTWAIT: libc::c_int = libc::MSG_DONTWAIT;

/// `PACKET_OUTGOING`: a frame this host sent.
pub(crate) const PACKET_OUTGOING: u8 = libc::PACKET_OUTGOING;
/// `PACKET_HOST`: a frame addressed to this host.
pub(crate) const PACKET_HOST: u8 = libc::PACKET_HOST;
/// `ENOBUFS`: a netlink socket overran.
pub(crate) const ENOBUFS: i32 = libc::ENOBUFS;
