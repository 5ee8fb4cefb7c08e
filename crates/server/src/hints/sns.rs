//! SNS's members that are not text or structures (model `2010-03-31`, awsQuery only), for
//! CreateTopic, DeleteTopic, ListTopics, Subscribe, ConfirmSubscription, Unsubscribe,
//! ListSubscriptions, ListSubscriptionsByTopic, Publish, Get/SetTopicAttributes,
//! Get/SetSubscriptionAttributes and the tagging operations (inputs and outputs).
//!
//! SNS's JSON (what `crate::sns::dispatch` reads and writes) uses the awsQuery member names:
//! `{"Name": "t", "Attributes": {"DisplayName": "x"}, "Tags": [{"Key": "k", "Value": "v"}]}`.
//! Publish's `MessageAttributes` is a map of structures whose entries the model names `Name`
//! and `Value`: `MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String`
//! becomes `{"MessageAttributes": {"a": {"DataType": "String", ...}}}`. `BinaryValue` stays
//! base64 text. ConfirmSubscription's `AuthenticateOnUnsubscribe` is text in the model.

use super::{Hints, Kind, PLAIN, any};

pub(crate) const HINTS: Hints = Hints(&[
    // Lists.
    any("Tags", Kind::List(PLAIN)),
    any("TagKeys", Kind::List(PLAIN)),
    any("Topics", Kind::List(PLAIN)),
    any("Subscriptions", Kind::List(PLAIN)),
    // Maps.
    any("Attributes", Kind::map(PLAIN)),
    any(
        "MessageAttributes",
        Kind::Map {
            key_name: "Name",
            value_name: "Value",
            value: PLAIN,
        },
    ),
    // Booleans.
    any("ReturnSubscriptionArn", Kind::Boolean),
]);
