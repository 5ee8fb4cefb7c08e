use super::*;

#[test]
fn a_batch_is_one_records_object() {
    let mut batch = Batch::new();
    batch.push(2_000, r#"{"eventName":"A"}"#);
    batch.push(1_000, r#"{"eventName":"B"}"#);
    let batch = batch.finish();
    let value: serde_json::Value = serde_json::from_slice(&batch.json).unwrap();
    assert_eq!(value["Records"][1]["eventName"], "B");
    assert_eq!((batch.oldest_ms, batch.newest_ms), (1_000, 2_000));
    assert_eq!(Batch::new().finish().json, b"{\"Records\":[]}");
}

#[test]
fn the_mark_keeps_what_can_be_read_again() {
    let mut state = RegionFiles {
        mark_ms: 0,
        seen: Vec::new(),
        chain: None,
    };
    state.advance(vec![(5, 3_000), (4, REREAD_MS + 2_000), (7, 500)]);
    assert_eq!(state.mark_ms, REREAD_MS + 2_000);
    let mut kept: Vec<u64> = state.seen.iter().map(|&(s, _)| s).collect();
    kept.sort_unstable();
    assert_eq!(
        kept,
        [4, 5],
        "500 ms is more than REREAD_MS before the mark"
    );
}

#[test]
fn global_services_are_told_by_their_event_source() {
    assert!(is_global(
        r#"{"eventVersion":"1.11","eventSource":"iam.amazonaws.com","requestParameters":{"eventSource":"logs.amazonaws.com"}}"#
    ));
    assert!(!is_global(r#"{"eventSource":"logs.amazonaws.com"}"#));
}

#[test]
fn unique_strings_are_16_alphanumerics() {
    let s = unique_string();
    assert_eq!(s.len(), 16);
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(s, unique_string());
}
