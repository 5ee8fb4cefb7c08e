//! The [`Notifier`]: accepts publishes and confirmations, delivers them off the caller's path
//! through a bounded queue and a bounded number of concurrent deliveries, and records outcomes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowwatch_model::Clock;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc};

use super::deliver::{self, DeliveryOutcome, RetryPolicy, SmtpConfig};
use super::message::{self, MessageUrls, Publication};
use super::topics::{Protocol, Subscription, Topic};
use crate::MonitorError;

/// SNS: a message is at most 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// SNS: a subject is under 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// Records a slow [`Notifier::subscribe_records`] reader may lag before losing the oldest.
const RECORD_EVENTS: usize = 1024;

/// How the notifier delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierConfig {
    pub urls: MessageUrls,
    /// Bounds a whole HTTP/S attempt (SNS: 15 s).
    pub http_timeout: Duration,
    pub http_connect_timeout: Duration,
    pub http_retry: RetryPolicy,
    pub smtp: SmtpConfig,
    pub email_retry: RetryPolicy,
    /// Publishes and confirmations waiting to be dispatched; beyond it `QueueFull`.
    pub queue_capacity: usize,
    /// Deliveries in progress at once.
    pub max_concurrent_deliveries: usize,
    /// The most recent delivery records kept by [`Notifier::records`].
    pub record_capacity: usize,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            urls: MessageUrls::default(),
            http_timeout: Duration::from_secs(15),
            http_connect_timeout: Duration::from_secs(5),
            http_retry: RetryPolicy::default(),
            smtp: SmtpConfig::default(),
            email_retry: RetryPolicy::default(),
            queue_capacity: 10_000,
            max_concurrent_deliveries: 64,
            record_capacity: 10_000,
        }
    }
}

/// What was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    Notification,
    SubscriptionConfirmation,
}

/// The result of one delivery to one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub message_id: String,
    pub kind: DeliveryKind,
    pub topic_arn: String,
    pub subscription_arn: String,
    pub protocol: Protocol,
    pub endpoint: String,
    pub outcome: DeliveryOutcome,
    pub finished_ms: i64,
}

/// One delivery to do.
#[derive(Debug)]
struct Job {
    message_id: String,
    kind: DeliveryKind,
    subscription: Subscription,
    payload: Payload,
}

#[derive(Debug)]
enum Payload {
    Http(message::HttpMessage),
    Email(message::EmailMessage),
}

/// Delivers to subscriptions in spawned tasks. Create it inside a tokio runtime; dropping it
/// stops accepting work (deliveries already dispatched finish).
#[derive(Debug)]
pub struct Notifier {
    queue: mpsc::Sender<Vec<Job>>,
    queue_capacity: usize,
    urls: MessageUrls,
    clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    records: Mutex<VecDeque<DeliveryRecord>>,
    record_capacity: usize,
    in_flight: AtomicUsize,
    idle: Notify,
    events: broadcast::Sender<DeliveryRecord>,
}

/// What every delivery task shares.
#[derive(Debug)]
struct Transports {
    http: reqwest::Client,
    http_retry: RetryPolicy,
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    email_retry: RetryPolicy,
}

impl Notifier {
    /// Builds the transports and starts the dispatcher.
    pub fn new(config: NotifierConfig, clock: Arc<dyn Clock>) -> Result<Self, MonitorError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| MonitorError::InvalidConfig {
                reason: "the notifier must be created inside a tokio runtime".into(),
            })?;
        let transports = Arc::new(Transports {
            http: deliver::http_client(config.http_timeout, config.http_connect_timeout)?,
            http_retry: config.http_retry.clone(),
            smtp: deliver::smtp_transport(&config.smtp)?,
            from: deliver::parse_from(&config.smtp.from)?,
            email_retry: config.email_retry.clone(),
        });
        let queue_capacity = config.queue_capacity.max(1);
        let (queue, receiver) = mpsc::channel(queue_capacity);
        let (events, _) = broadcast::channel(RECORD_EVENTS);
        let shared = Arc::new(Shared {
            records: Mutex::new(VecDeque::new()),
            record_capacity: config.record_capacity.max(1),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            events,
        });
        let permits = Arc::new(Semaphore::new(config.max_concurrent_deliveries.max(1)));
        runtime.spawn(dispatch(
            receiver,
            permits,
            transports,
            Arc::clone(&shared),
            Arc::clone(&clock),
        ));
        Ok(Self {
            queue,
            queue_capacity,
            urls: config.urls,
            clock,
            shared,
        })
    }

    /// `Publish`: validates, then queues one delivery per confirmed subscription of `topic`
    /// and answers the message ID at once.
    pub fn publish(
        &self,
        topic: &Topic,
        subject: Option<&str>,
        message: &str,
    ) -> Result<String, MonitorError> {
        validate_publish(subject, message)?;
        let publication = Publication::new(
            topic,
            subject.map(str::to_owned),
            message.to_owned(),
            self.clock.now_millis(),
        );
        let jobs = topic
            .confirmed_subscriptions()
            .map(|sub| {
                let payload = if sub.protocol.is_email() {
                    Payload::Email(message::email_notification(
                        &publication,
                        topic,
                        sub,
                        &self.urls,
                    ))
                } else {
                    Payload::Http(message::http_notification(&publication, sub, &self.urls))
                };
                Job {
                    message_id: publication.message_id.clone(),
                    kind: DeliveryKind::Notification,
                    subscription: sub.clone(),
                    payload,
                }
            })
            .collect();
        self.enqueue(jobs)?;
        Ok(publication.message_id)
    }

    /// Sends the `SubscriptionConfirmation` of a pending subscription of `topic`; answers the
    /// message ID.
    pub fn confirm(&self, topic: &Topic, subscription_arn: &str) -> Result<String, MonitorError> {
        let sub = topic
            .subscriptions
            .iter()
            .find(|s| s.arn == subscription_arn)
            .ok_or_else(|| MonitorError::NotFound {
                what: "subscription",
                arn: subscription_arn.to_owned(),
            })?;
        let token = sub.token().ok_or_else(|| {
            MonitorError::invalid("SubscriptionArn", "the subscription is already confirmed")
        })?;
        let message_id = uuid::Uuid::new_v4().to_string();
        let now = self.clock.now_millis();
        let payload = if sub.protocol.is_email() {
            Payload::Email(message::email_confirmation(
                topic,
                sub,
                token,
                &message_id,
                now,
                &self.urls,
            ))
        } else {
            Payload::Http(message::http_confirmation(
                topic,
                token,
                &message_id,
                now,
                &self.urls,
            ))
        };
        self.enqueue(vec![Job {
            message_id: message_id.clone(),
            kind: DeliveryKind::SubscriptionConfirmation,
            subscription: sub.clone(),
            payload,
        }])?;
        Ok(message_id)
    }

    /// The most recent delivery records, oldest first.
    pub fn records(&self) -> Vec<DeliveryRecord> {
        lock(&self.shared.records).iter().cloned().collect()
    }

    /// Every record from now on, for the engine to log (a slow reader loses the oldest).
    pub fn subscribe_records(&self) -> broadcast::Receiver<DeliveryRecord> {
        self.shared.events.subscribe()
    }

    /// Deliveries queued or in progress.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until every accepted delivery has a record.
    pub async fn idle(&self) {
        loop {
            let notified = self.shared.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    fn enqueue(&self, jobs: Vec<Job>) -> Result<(), MonitorError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let count = jobs.len();
        self.shared.in_flight.fetch_add(count, Ordering::SeqCst);
        let error = match self.queue.try_send(jobs) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => MonitorError::QueueFull {
                capacity: self.queue_capacity,
            },
            Err(mpsc::error::TrySendError::Closed(_)) => MonitorError::Shutdown,
        };
        self.shared.finish(count);
        Err(error)
    }
}

impl Shared {
    fn finish(&self, count: usize) {
        if self.in_flight.fetch_sub(count, Ordering::SeqCst) == count {
            self.idle.notify_waiters();
        }
    }

    fn record(&self, record: DeliveryRecord) {
        match &record.outcome {
            DeliveryOutcome::Delivered { attempts, .. } => tracing::debug!(
                subscription = %record.subscription_arn, attempts, "sns delivery succeeded"
            ),
            DeliveryOutcome::Failed { attempts, reason } => tracing::warn!(
                subscription = %record.subscription_arn, attempts, %reason, "sns delivery failed"
            ),
        }
        let _ = self.events.send(record.clone());
        let mut records = lock(&self.records);
        if records.len() >= self.record_capacity {
            records.pop_front();
        }
        records.push_back(record);
    }
}

/// Marks one delivery finished when dropped.
#[derive(Debug)]
struct Done(Arc<Shared>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.finish(1);
    }
}

/// Takes queued jobs and runs each in its own task once a delivery permit is free.
async fn dispatch(
    mut receiver: mpsc::Receiver<Vec<Job>>,
    permits: Arc<Semaphore>,
    transports: Arc<Transports>,
    shared: Arc<Shared>,
    clock: Arc<dyn Clock>,
) {
    while let Some(jobs) = receiver.recv().await {
        for job in jobs {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return;
            };
            let transports = Arc::clone(&transports);
            let shared = Arc::clone(&shared);
            let clock = Arc::clone(&clock);
            tokio::spawn(async move {
                // Counts the delivery as finished even if this task panics or is cancelled.
                let done = Done(Arc::clone(&shared));
                let outcome = run(&transports, &job).await;
                drop(permit);
                shared.record(DeliveryRecord {
                    message_id: job.message_id,
                    kind: job.kind,
                    topic_arn: job.subscription.topic_arn,
                    subscription_arn: job.subscription.arn,
                    protocol: job.subscription.protocol,
                    endpoint: job.subscription.endpoint,
                    outcome,
                    finished_ms: clock.now_millis(),
                });
                drop(done);
            });
        }
    }
}

async fn run(transports: &Transports, job: &Job) -> DeliveryOutcome {
    match &job.payload {
        Payload::Http(message) => {
            let url = &job.subscription.endpoint;
            deliver::with_retries(&transports.http_retry, || {
                deliver::post(&transports.http, url, message)
            })
            .await
        }
        Payload::Email(message) => {
            deliver::with_retries(&transports.email_retry, || {
                deliver::send_email(&transports.smtp, &transports.from, message)
            })
            .await
        }
    }
}

/// SNS's rules for `Subject` and `Message`.
pub fn validate_publish(subject: Option<&str>, message: &str) -> Result<(), MonitorError> {
    if message.is_empty() {
        return Err(MonitorError::invalid("Message", "empty message"));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(MonitorError::invalid(
            "Message",
            format!(
                "message too long: {} bytes, at most {MAX_MESSAGE_BYTES}",
                message.len()
            ),
        ));
    }
    if let Some(subject) = subject {
        let ok = !subject.is_empty()
            && subject.chars().count() <= MAX_SUBJECT_CHARS
            && subject
                .chars()
                .all(|c| c.is_ascii() && !c.is_ascii_control())
            && !subject.starts_with(' ');
        if !ok {
            return Err(MonitorError::invalid(
                "Subject",
                format!(
                    "subject must be 1-{MAX_SUBJECT_CHARS} printable ascii characters without line breaks"
                ),
            ));
        }
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
