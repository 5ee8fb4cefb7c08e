//! `flowwatch serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use flowwatch_engine::{Engine, EngineConfig};
use flowwatch_storage::{BucketStoreConfig, ObjectStoreConfig};

use crate::config::{AuthMode, FileConfig};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FLOWWATCH_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the catalog, the write-ahead log and (by default) the segments.
    #[arg(long, env = "FLOWWATCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML config file (see docs/configuration.md).
    #[arg(long, env = "FLOWWATCH_CONFIG")]
    config: Option<PathBuf>,
    /// Account id every request acts in.
    #[arg(long, env = "FLOWWATCH_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Acknowledge writes without fsync (faster, loses recent writes on power loss).
    #[arg(long, env = "FLOWWATCH_NO_FSYNC")]
    no_fsync: bool,
    /// SMTP relay for email subscriptions, `host:port`.
    #[arg(long, env = "FLOWWATCH_SMTP")]
    smtp: Option<String>,
    /// Seconds between two evaluations of every alarm (CloudWatch: 60).
    #[arg(long, env = "FLOWWATCH_ALARM_EVALUATION_SECS")]
    alarm_evaluation_secs: Option<u64>,
    /// Seconds between two deliveries of trails' log files to their buckets (CloudTrail: about
    /// 300).
    #[arg(long, env = "FLOWWATCH_TRAIL_DELIVERY_SECS")]
    trail_delivery_secs: Option<u64>,
    /// Seconds between two digest files of a trail validating its log files (CloudTrail: 3600).
    #[arg(long, env = "FLOWWATCH_TRAIL_DIGEST_SECS")]
    trail_digest_secs: Option<u64>,
    /// Seconds of record end times one flow-log file in S3 covers, 1 to 300 (AWS: 300).
    #[arg(long, env = "FLOWWATCH_S3_WINDOW_SECS")]
    s3_window_secs: Option<u64>,
    /// Seconds a flow-log window waits after its end for late records before its S3 file is
    /// written (default 60; 0 for the freshest files).
    #[arg(long, env = "FLOWWATCH_S3_GRACE_SECS")]
    s3_grace_secs: Option<u64>,
    /// Verify every request's SigV4 signature (`off`: development only, any well-formed
    /// signature acts as the account root).
    #[arg(long, env = "FLOWWATCH_AUTH", value_enum)]
    auth: Option<AuthMode>,
    /// The root user's access key id (with FLOWWATCH_ROOT_SECRET_ACCESS_KEY; default: created
    /// on first start in the data directory's `root-credentials`).
    #[arg(long, env = "FLOWWATCH_ROOT_ACCESS_KEY_ID")]
    root_access_key_id: Option<String>,
    /// The root user's secret access key.
    #[arg(long, env = "FLOWWATCH_ROOT_SECRET_ACCESS_KEY", hide_env_values = true)]
    root_secret_access_key: Option<String>,
    /// Rate limits per principal and operation, as a multiple of AWS's quotas (1: AWS's;
    /// 0: off). A call past its limit gets the service's throttling error, which clients retry.
    #[arg(long, env = "FLOWWATCH_RATE_LIMIT_SCALE")]
    rate_limit_scale: Option<f64>,
    /// Collect NetFlow v5/v9/IPFIX on this UDP address (e.g. 0.0.0.0:2055) inside the server:
    /// each exporter interface's records go to the flow logs covering its ENI (the
    /// inventory's `exporter`/`if-index`, else an id derived from the exporter and ifIndex).
    #[arg(long, env = "FLOWWATCH_NETFLOW", value_name = "ADDR")]
    netflow: Option<std::net::SocketAddr>,
    /// Capture live on this network interface inside the server (Linux, needs CAP_NET_RAW);
    /// repeat for several. Records go to the flow logs covering the interface's ENI (the
    /// inventory's `name`/`host`, else derived from this host and the name).
    #[arg(long = "capture-interface", value_name = "NAME")]
    capture_interface: Vec<String>,
    /// With --capture-interface: packets an nftables/iptables rule logs to this NFLOG group
    /// are REJECT records (needs CAP_NET_ADMIN).
    #[arg(long, value_name = "N", requires = "capture_interface")]
    nflog_group: Option<u16>,
    /// Aggregation interval of the captures inside the server, 60 or 600 seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    capture_interval: u64,
    /// Network interfaces flow logs cover (TOML, see docs/inventory.md).
    #[arg(long, env = "FLOWWATCH_INVENTORY")]
    inventory: Option<PathBuf>,
    /// Log filter, e.g. `info` or `flowwatch=debug`.
    #[arg(long, env = "FLOWWATCH_LOG", default_value = "info")]
    log: String,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr)
        .init();
    let file = match &args.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let listen: SocketAddr = match (args.listen, &file.listen) {
        (Some(addr), _) => addr,
        (None, Some(s)) => s
            .parse()
            .with_context(|| format!("bad listen address {s}"))?,
        (None, None) => "127.0.0.1:4580".parse()?,
    };
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("./flowwatch-data"));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let mut config = EngineConfig::new(&data_dir);
    if let Some(account) = args.account_id.or(file.account_id) {
        anyhow::ensure!(
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
            "account id must be 12 digits, got {account:?}"
        );
        config.account_id = account;
    }
    if let Some(secs) = args.alarm_evaluation_secs.or(file.alarm_evaluation_secs) {
        anyhow::ensure!(
            secs >= 1,
            "alarm evaluation interval must be at least 1 second"
        );
        config.alarm_evaluation_interval = Duration::from_secs(secs);
    }
    if let Some(secs) = args.trail_delivery_secs.or(file.trail_delivery_secs) {
        anyhow::ensure!(secs >= 1, "trail delivery period must be at least 1 second");
        config.trail_files.delivery_period = Duration::from_secs(secs);
    }
    let s3_window = args.s3_window_secs.or(file.s3_window_secs);
    let s3_grace = args.s3_grace_secs.or(file.s3_grace_secs);
    if s3_window.is_some() || s3_grace.is_some() {
        let window = s3_window.unwrap_or(flowwatch_flowlog::WINDOW_SECS);
        anyhow::ensure!(
            (1..=flowwatch_flowlog::WINDOW_SECS).contains(&window),
            "the S3 flow-log window must be 1 to 300 seconds (got {window})"
        );
        let grace = s3_grace.unwrap_or(config.s3_delivery.grace.as_secs());
        anyhow::ensure!(
            grace <= 3600,
            "the S3 flow-log grace must be at most 3600 seconds (got {grace})"
        );
        config.s3_delivery = config.s3_delivery.clone().with_timing(window, grace);
    }
    if let Some(secs) = args.trail_digest_secs.or(file.trail_digest_secs) {
        anyhow::ensure!(secs >= 1, "trail digest period must be at least 1 second");
        config.trail_files.digest_period = Duration::from_secs(secs);
    }
    config.sns_auto_confirm = file.sns_auto_confirm.unwrap_or(false);
    let auth = args.auth.or(file.auth).unwrap_or(AuthMode::On);
    config.auth.verify = auth == AuthMode::On;
    if auth == AuthMode::Off {
        eprintln!(
            "flowwatch: WARNING: --auth off: signatures are not verified and every request acts \
             as the account root. Use only for development, never on a shared network."
        );
    }
    if let Some(scale) = args.rate_limit_scale.or(file.rate_limit_scale) {
        anyhow::ensure!(
            scale.is_finite() && scale >= 0.0,
            "rate limit scale must be a number of 0 or more, got {scale}"
        );
        config.rate_limit_scale = scale;
    }
    let file_root = file.root.as_ref();
    let given = match (args.root_access_key_id, args.root_secret_access_key) {
        (None, None) => (
            file_root.and_then(|r| r.access_key_id.clone()),
            file_root.and_then(|r| r.secret_access_key.clone()),
        ),
        pair => pair,
    };
    config.auth.root = Some(crate::root_key::resolve(&data_dir, given)?);
    let mut captures = crate::capture::InServer {
        netflow: args.netflow,
        interfaces: args.capture_interface.clone(),
        nflog_group: args.nflog_group,
        interval: args.capture_interval,
        inventory: None,
    };
    if let Some(path) = args.inventory.as_ref().or(file.inventory.as_ref()) {
        let inventory = crate::config::load_inventory(path)?;
        captures.inventory = Some(inventory.clone());
        config.inventory = Some(std::sync::Arc::new(inventory));
    }
    let smtp = &mut config.notifier.smtp;
    if let Some(f) = &file.smtp {
        if let Some(h) = &f.host {
            smtp.host.clone_from(h);
        }
        if let Some(p) = f.port {
            smtp.port = p;
        }
        if let Some(from) = &f.from {
            smtp.from.clone_from(from);
        }
        smtp.starttls = f.starttls.unwrap_or(false);
        if let (Some(u), Some(p)) = (&f.username, &f.password) {
            smtp.credentials = Some((u.clone(), p.clone()));
        }
    }
    if let Some(relay) = &args.smtp {
        let (host, port) = relay
            .rsplit_once(':')
            .with_context(|| format!("--smtp must be host:port, got {relay:?}"))?;
        smtp.host = host.to_owned();
        smtp.port = port
            .parse()
            .with_context(|| format!("--smtp port must be a number, got {port:?}"))?;
    }
    let public_url = file.public_url.clone();
    let storage = &mut config.storage;
    storage.fsync = !args.no_fsync && file.fsync.unwrap_or(true);
    if let Some(b) = file.flush_bytes {
        storage.flush_bytes = b;
    }
    if let Some(s) = file.flush_age_secs {
        storage.flush_age = Duration::from_secs(s);
    }
    if let Some(b) = file.memory_limit_bytes {
        storage.memory_limit_bytes = b;
    }
    if let Some(b) = file.query_memory_limit_bytes {
        config.query_memory_limit = b;
    }
    if let Some(s3) = file.s3 {
        let (bucket, prefix, service) = s3.split();
        storage.object_store = ObjectStoreConfig::S3 {
            bucket,
            prefix,
            connection: service.into_connection(),
        };
    }
    if let Some(service) = file.flow_log_buckets {
        config.s3_delivery.store = BucketStoreConfig::S3(service.into_connection());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        // SNS messages link back here (SubscribeURL, UnsubscribeURL).
        let base = public_url.unwrap_or_else(|| format!("http://{local}/"));
        let base = if base.ends_with('/') {
            base
        } else {
            format!("{base}/")
        };
        config.notifier.urls.signing_cert_url = format!("{base}SimpleNotificationService.pem");
        config.notifier.urls.service_url = base;
        let account = config.account_id.clone();
        let engine = Engine::open(config)
            .await
            .with_context(|| format!("opening data directory {}", data_dir.display()))?;
        let shutdown = shutdown_signal();
        let capture_threads = match captures.start(crate::capture::InProcess {
            engine: engine.clone(),
            runtime: tokio::runtime::Handle::current(),
            account,
        }) {
            Ok(threads) => threads,
            Err(error) => {
                // Closed cleanly before saying why (an address in use, an unknown interface).
                engine.shutdown().await?;
                return Err(error);
            }
        };
        tracing::info!(%local, data_dir = %data_dir.display(), "flowwatch listening");
        // A line tests and scripts can wait for.
        println!("flowwatch listening on http://{local}");
        flowwatch_server::serve(listener, engine.clone(), shutdown).await?;
        // The captures saw the signal too: their open windows go to the flow logs first.
        for thread in capture_threads {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        tracing::info!("shutting down: flushing to segments");
        engine.shutdown().await?;
        anyhow::Ok(())
    })
}

/// Resolves at the first SIGINT or SIGTERM (Ctrl-C elsewhere). The handlers are installed when
/// this is called, not when the future is first polled, so a signal sent as soon as the caller
/// says it is ready (tests, service managers) is not lost to the default action. Call it
/// inside the runtime.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async move {
        let _ = tokio::signal::ctrl_c().await;
    }
}
