//! The SQL of the change feed and the grid-set version, written once for
//! both backends (the statements are identical standard SQL, as in
//! `incident_sql.rs`): the [`Unit`](super::Unit) methods that append to the
//! feed and guard the grid set, and the store's reads of the feed.

/// Implement `Unit` for a backend's unit type (a struct with a `tx`
/// field). The grids are written by the backend's own
/// `write_grids(&mut Connection, &[Grid], WriteMode)` and the revisions by
/// the functions `revision_sql::revision_writes!` expands, which must be in
/// scope where this is expanded; `$before_append` is a statement run before each
/// append (PostgreSQL's ordering lock), or `None`; `$read_shared` what a
/// shared read of the grid-set row adds (` FOR SHARE`, or nothing on SQLite,
/// whose units hold the write lock anyway).
macro_rules! impl_unit {
    ($unit:ty, $db:ty, $before_append:expr, $read_shared:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::Unit for $unit {
            async fn record_revision(
                &mut self,
                revision: &$crate::model::NewRevision,
                grids: &[$crate::model::Grid],
                removed: &[$crate::model::GridId],
            ) -> Result<(), $crate::store::StoreError> {
                record_revision(&mut self.tx, revision, grids, removed).await
            }

            async fn mark_revision_applied(
                &mut self,
                revision: i64,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::store::StoreError> {
                mark_revision_applied(&mut self.tx, revision, at).await
            }

            async fn cancel_revision(
                &mut self,
                revision: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                cancel_revision(&mut self.tx, revision).await
            }

            async fn write_grids(
                &mut self,
                grids: &[$crate::model::Grid],
                mode: $crate::store::WriteMode,
            ) -> Result<(), $crate::store::StoreError> {
                write_grids(&mut self.tx, grids, mode).await
            }

            async fn remove_grids(
                &mut self,
                ids: &[$crate::model::GridId],
            ) -> Result<(), $crate::store::StoreError> {
                // One statement per id: an edit removes a handful of grids.
                for id in ids {
                    sqlx::query("DELETE FROM grids WHERE id = $1")
                        .bind(id.as_str())
                        .execute(&mut *self.tx)
                        .await
                        .map_err(|source| $crate::store::StoreError::Database {
                            action: format!("removing grid {id}"),
                            source,
                        })?;
                }
                Ok(())
            }

            async fn grid_set_version(&mut self) -> Result<i64, $crate::store::StoreError> {
                let (version,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT version FROM grid_set WHERE id = 1")
                        .fetch_one(&mut *self.tx)
                        .await
                        .map_err($crate::store::incident_sql::failed(
                            "reading the grid-set version",
                        ))?;
                Ok(version)
            }

            async fn check_grid_set(
                &mut self,
                located_on: i64,
            ) -> Result<(), $crate::store::StoreError> {
                let (version,) = sqlx::query_as::<$db, (i64,)>(concat!(
                    "SELECT version FROM grid_set WHERE id = 1",
                    $read_shared
                ))
                .fetch_one(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed(
                    "reading the grid-set version",
                ))?;
                if version != located_on {
                    return Err($crate::store::StoreError::Stale {
                        what: $crate::store::GRID_SET.into(),
                        version: located_on,
                    });
                }
                Ok(())
            }

            async fn claim_grid_set(
                &mut self,
                planned: i64,
            ) -> Result<i64, $crate::store::StoreError> {
                let claimed = sqlx::query::<$db>(
                    "UPDATE grid_set SET version = version + 1 WHERE id = 1 AND version = $1",
                )
                .bind(planned)
                .execute(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed(
                    "claiming the grid-set version",
                ))?;
                if claimed.rows_affected() != 1 {
                    return Err($crate::store::StoreError::Stale {
                        what: $crate::store::GRID_SET.into(),
                        version: planned,
                    });
                }
                Ok(planned + 1)
            }

            async fn record_changes(
                &mut self,
                changes: &[$crate::model::NewChange],
            ) -> Result<Vec<$crate::model::Change>, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                if changes.is_empty() {
                    return Ok(Vec::new());
                }
                let before: Option<&'static str> = $before_append;
                if let Some(statement) = before {
                    sqlx::query::<$db>(sqlx::AssertSqlSafe(statement))
                        .execute(&mut *self.tx)
                        .await
                        .map_err(failed("ordering the change feed"))?;
                }
                let rows: Vec<(String, i64)> = changes
                    .iter()
                    .map(|c| {
                        (
                            serde_json::to_string(&c.ids).expect("strings serialise"),
                            c.at.as_millisecond(),
                        )
                    })
                    .collect();
                let mut recorded = Vec::with_capacity(changes.len());
                for (chunk, chunk_rows) in changes
                    .chunks($crate::store::unit::APPEND_CHUNK)
                    .zip(rows.chunks($crate::store::unit::APPEND_CHUNK))
                {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO changes (kind, ids, actor, at, summary) ",
                    );
                    insert.push_values(chunk.iter().zip(chunk_rows), |mut row, (c, (ids, at))| {
                        row.push_bind(c.kind.name())
                            .push_bind(ids.as_str())
                            .push_bind(c.actor.as_str())
                            .push_bind(*at)
                            .push_bind(c.summary.as_str());
                    });
                    insert.push(" RETURNING seq");
                    let mut seqs: Vec<i64> = insert
                        .build_query_as::<(i64,)>()
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err(failed("appending to the change feed"))?
                        .into_iter()
                        .map(|(seq,)| seq)
                        .collect();
                    // The rows take their numbers in the order of the VALUES
                    // list; RETURNING promises no order, so sort them back.
                    seqs.sort_unstable();
                    for ((c, (_, at)), seq) in chunk.iter().zip(chunk_rows).zip(seqs) {
                        // As a reader will see it: the time to the millisecond.
                        recorded.push($crate::model::Change {
                            seq,
                            kind: c.kind,
                            ids: c.ids.clone(),
                            actor: c.actor.clone(),
                            at: jiff::Timestamp::from_millisecond(*at).unwrap_or(c.at),
                            summary: c.summary.clone(),
                        });
                    }
                }
                if recorded.len() != changes.len() {
                    return Err($crate::store::StoreError::Integrity(format!(
                        "{} change-feed rows appended for {} changes",
                        recorded.len(),
                        changes.len()
                    )));
                }
                Ok(recorded)
            }

            async fn commit(self: Box<Self>) -> Result<(), $crate::store::StoreError> {
                self.tx
                    .commit()
                    .await
                    .map_err($crate::store::incident_sql::failed("committing a change"))
            }
        }
    };
}

/// Implement `ChangeFeed` for a store with a `pool` field.
macro_rules! impl_change_feed {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ChangeFeed for $store {
            async fn changes(
                &self,
                after: i64,
                limit: u32,
            ) -> Result<Vec<$crate::model::Change>, $crate::store::StoreError> {
                sqlx::query_as::<$db, (i64, String, String, String, i64, String)>(
                    "SELECT seq, kind, ids, actor, at, summary FROM changes WHERE seq > $1 \
                 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed(
                    "reading the change feed",
                ))?
                .into_iter()
                .map(|(seq, kind, ids, actor, at, summary)| {
                    Ok($crate::store::unit::stored_change(
                        seq, &kind, &ids, actor, at, summary,
                    ))
                })
                .collect()
            }

            async fn last_change(&self) -> Result<i64, $crate::store::StoreError> {
                let (seq,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT COALESCE(MAX(seq), 0) FROM changes")
                        .fetch_one(&self.pool)
                        .await
                        .map_err($crate::store::incident_sql::failed(
                            "reading the change feed",
                        ))?;
                Ok(seq)
            }

            async fn grid_set_version(&self) -> Result<i64, $crate::store::StoreError> {
                let (version,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT version FROM grid_set WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await
                        .map_err($crate::store::incident_sql::failed(
                            "reading the grid-set version",
                        ))?;
                Ok(version)
            }
        }
    };
}

pub(crate) use {impl_change_feed, impl_unit};
