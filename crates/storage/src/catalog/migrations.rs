//! Catalog schema migrations (`docs/formats/catalog.md`).

use rusqlite::Connection;

use crate::error::{Result, StorageError};

/// Schema migrations, applied in order; never edit one that has shipped, append a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: accounts, log groups, streams, tags, segments, WAL checkpoint, deferred object deletes.
    "
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE log_groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        creation_time INTEGER NOT NULL,
        retention_days INTEGER,
        kms_key_id TEXT,
        class TEXT NOT NULL,
        deletion_protection INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, region, name)
    );
    CREATE TABLE log_group_tags (
        group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (group_id, key)
    );
    CREATE TABLE log_streams (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        creation_time INTEGER NOT NULL,
        first_event_ts INTEGER,
        last_event_ts INTEGER,
        last_ingestion_time INTEGER,
        UNIQUE (group_id, name)
    );
    CREATE TABLE segments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        group_id INTEGER NOT NULL,
        path TEXT NOT NULL UNIQUE,
        format_version INTEGER NOT NULL,
        min_ts INTEGER NOT NULL,
        max_ts INTEGER NOT NULL,
        row_count INTEGER NOT NULL,
        byte_size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX segments_by_group ON segments (group_id, min_ts);
    CREATE TABLE segment_streams (
        segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        stream_id INTEGER NOT NULL,
        min_ts INTEGER NOT NULL,
        max_ts INTEGER NOT NULL,
        row_count INTEGER NOT NULL,
        PRIMARY KEY (segment_id, stream_id)
    );
    CREATE TABLE wal_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        flushed_seq INTEGER NOT NULL
    );
    INSERT INTO wal_checkpoint (id, flushed_seq) VALUES (1, 0);
    CREATE TABLE pending_object_deletes (
        path TEXT PRIMARY KEY
    );
    ",
    // 2: state of ingest observers (metric filters...), saved with the WAL checkpoint.
    "
    CREATE TABLE observer_state (
        name TEXT PRIMARY KEY,
        state BLOB NOT NULL
    );
    ",
    // 3: metric filters; the definition is the engine's JSON, opaque here.
    "
    CREATE TABLE metric_filters (
        group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (group_id, name)
    );
    ",
    // 4: engine state kept whole (alarms, SNS topics...): a name and the engine's JSON.
    "
    CREATE TABLE engine_state (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ",
    // 5: the format every row of a segment has (`flowwatch.segment.kind`), NULL for none.
    "
    ALTER TABLE segments ADD COLUMN kind TEXT;
    ",
];

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Corrupt {
            what: "catalog".into(),
            detail: format!(
                "schema version {applied} is newer than this flowwatch ({})",
                MIGRATIONS.len()
            ),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
