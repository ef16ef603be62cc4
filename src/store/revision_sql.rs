//! The SQL of the grid set's dated versions (tables `grid_revisions` and
//! `grid_revision_grids`, migration 0005), written once for both backends
//! as `feed_sql.rs` is: the statements are standard SQL and the columns have
//! the same meaning (the geometry is WKB in both). The store's reads are
//! [`GridHistory`](super::GridHistory); the writes are [`Unit`](super::Unit)
//! methods, expanded inside `impl_unit!`.

use jiff::Timestamp;

use crate::model::{GridId, GridRevision, RevisionGrids, RevisionState};
use crate::store::StoreError;
use crate::store::row::StoredGrid;

/// The columns of a revision row, with its counts of grids written and
/// removed, in [`RevisionRow`]'s order.
pub(crate) const REVISION_COLUMNS: &str = "r.revision, r.actor, r.recorded_at, r.effective_at, \
     r.reason, r.summary, r.replaces_all, r.state, r.applied_at, r.written, r.removed";

/// One row of `grid_revisions` as selected by [`REVISION_COLUMNS`].
pub(crate) type RevisionRow = (
    i64,
    String,
    i64,
    i64,
    String,
    String,
    bool,
    String,
    Option<i64>,
    i64,
    i64,
);

/// One row of `grid_revision_grids`, as selected by [`GRID_ROW_COLUMNS`].
pub(crate) type RevisionGridRow = (
    String,
    bool,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
);

/// The columns of a revision's grid rows (the level cast so that both
/// backends answer a 64-bit integer).
pub(crate) const GRID_ROW_COLUMNS: &str =
    "id, removed, CAST(level AS BIGINT), parent_id, name, properties, geom";

/// Rows of grids appended per INSERT (8 parameters each).
pub(crate) const GRID_ROW_CHUNK: usize = 500;

/// Wrap a driver error with what was being done.
pub(crate) fn failed(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let action = action.into();
    move |source| StoreError::Database { action, source }
}

fn time(revision: i64, what: &str, ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Corrupt {
        id: format!("grid revision {revision}"),
        reason: format!("its {what} {ms} is out of range"),
    })
}

/// A revision row decoded.
pub(crate) fn revision_of(row: RevisionRow) -> Result<GridRevision, StoreError> {
    let (revision, actor, recorded, effective, reason, summary, replaces_all, state, applied, w, r) =
        row;
    Ok(GridRevision {
        revision,
        actor,
        recorded_at: time(revision, "recording time", recorded)?,
        effective_at: time(revision, "effective time", effective)?,
        reason,
        summary,
        replaces_all,
        state: RevisionState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            id: format!("grid revision {revision}"),
            reason: format!("its state {state:?} is unknown"),
        })?,
        applied_at: applied
            .map(|ms| time(revision, "applying time", ms))
            .transpose()?,
        written: usize::try_from(w).unwrap_or(0),
        removed: usize::try_from(r).unwrap_or(0),
    })
}

/// A revision with its grid rows decoded.
pub(crate) fn revision_grids_of(
    revision: GridRevision,
    rows: Vec<RevisionGridRow>,
) -> Result<RevisionGrids, StoreError> {
    let mut grids = Vec::new();
    let mut removed = Vec::new();
    for (id, is_removed, level, parent_id, name, properties, geom) in rows {
        if is_removed {
            removed.push(GridId(id));
            continue;
        }
        let corrupt = |what: &str| StoreError::Corrupt {
            id: format!("grid {id} of revision {}", revision.revision),
            reason: format!("its {what} is missing"),
        };
        grids.push(
            StoredGrid {
                level: level.ok_or_else(|| corrupt("level"))?,
                name: name.ok_or_else(|| corrupt("name"))?,
                properties: properties.ok_or_else(|| corrupt("properties"))?,
                geom: geom.ok_or_else(|| corrupt("geometry"))?,
                parent_id,
                id,
            }
            .into_grid()?,
        );
    }
    grids.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)));
    removed.sort();
    Ok(RevisionGrids {
        revision,
        grids,
        removed,
    })
}

/// The revisions to fold for the grids in force at `at`: those effective
/// by then, from the last whole-set replace among them on. `revisions` is
/// in effective order.
pub(crate) fn needed_for(revisions: &[GridRevision], at: Timestamp) -> &[GridRevision] {
    let effective = revisions.partition_point(|r| r.effective_at <= at);
    let in_force = &revisions[..effective];
    let start = in_force.iter().rposition(|r| r.replaces_all).unwrap_or(0);
    &in_force[start..]
}

/// Implement `GridHistory` for a store with a `pool` field.
macro_rules! impl_grid_history {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::GridHistory for $store {
            async fn grid_revisions(
                &self,
            ) -> Result<Vec<$crate::model::GridRevision>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::revision_sql::RevisionRow> =
                    sqlx::query_as::<$db, _>(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM grid_revisions r ORDER BY r.effective_at, r.revision",
                        $crate::store::revision_sql::REVISION_COLUMNS
                    )))
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::revision_sql::failed(
                        "listing the grid revisions",
                    ))?;
                rows.into_iter()
                    .map($crate::store::revision_sql::revision_of)
                    .collect()
            }

            async fn revision_grids(
                &self,
                revision: i64,
            ) -> Result<Option<$crate::model::RevisionGrids>, $crate::store::StoreError> {
                let action = format!("reading grid revision {revision}");
                let head: Option<$crate::store::revision_sql::RevisionRow> =
                    sqlx::query_as::<$db, _>(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM grid_revisions r WHERE r.revision = $1",
                        $crate::store::revision_sql::REVISION_COLUMNS
                    )))
                    .bind(revision)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::revision_sql::failed(action.clone()))?;
                let Some(head) = head else {
                    return Ok(None);
                };
                let rows: Vec<$crate::store::revision_sql::RevisionGridRow> =
                    sqlx::query_as::<$db, _>(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM grid_revision_grids WHERE revision = $1",
                        $crate::store::revision_sql::GRID_ROW_COLUMNS
                    )))
                    .bind(revision)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::revision_sql::failed(action))?;
                $crate::store::revision_sql::revision_grids_of(
                    $crate::store::revision_sql::revision_of(head)?,
                    rows,
                )
                .map(Some)
            }
        }
    };
}

/// The free functions behind the `Unit` methods that write revisions, for
/// a backend's module to expand where `impl_unit!` can call them (as it
/// calls the backend's `write_grids`): `$conn` is the backend's connection.
macro_rules! revision_writes {
    ($db:ty, $conn:ty) => {
        async fn record_revision(
            tx: &mut $conn,
            revision: &$crate::model::NewRevision,
            grids: &[$crate::model::Grid],
            removed: &[$crate::model::GridId],
        ) -> Result<(), $crate::store::StoreError> {
            let failed = |what: &str| {
                $crate::store::revision_sql::failed(format!(
                    "recording grid revision {} ({what})",
                    revision.revision
                ))
            };
            let applied_at = (revision.state == $crate::model::RevisionState::Applied)
                .then(|| revision.recorded_at.as_millisecond());
            sqlx::query::<$db>(
                "INSERT INTO grid_revisions (revision, actor, recorded_at, effective_at, reason, \
                 summary, replaces_all, state, applied_at, written, removed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(revision.revision)
            .bind(revision.actor.as_str())
            .bind(revision.recorded_at.as_millisecond())
            .bind(revision.effective_at.as_millisecond())
            .bind(revision.reason.as_str())
            .bind(revision.summary.as_str())
            .bind(revision.mode == $crate::store::WriteMode::Replace)
            .bind(revision.state.name())
            .bind(applied_at)
            .bind(i64::try_from(grids.len()).unwrap_or(i64::MAX))
            .bind(i64::try_from(removed.len()).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(failed("the revision"))?;
            let encoded: Vec<(String, Vec<u8>)> = grids
                .iter()
                .map(|g| {
                    (
                        serde_json::to_string(&g.properties)
                            .expect("a map of JSON values with string keys serialises"),
                        $crate::geom::wkb::to_wkb(&g.geometry),
                    )
                })
                .collect();
            for (chunk, encoded) in grids
                .chunks($crate::store::revision_sql::GRID_ROW_CHUNK)
                .zip(encoded.chunks($crate::store::revision_sql::GRID_ROW_CHUNK))
            {
                let mut insert = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO grid_revision_grids \
                     (revision, id, removed, level, parent_id, name, properties, geom) ",
                );
                insert.push_values(chunk.iter().zip(encoded), |mut row, (g, (props, wkb))| {
                    row.push_bind(revision.revision)
                        .push_bind(g.id.as_str())
                        .push_bind(false)
                        .push_bind(i32::from(g.level.get()))
                        .push_bind(g.parent_id.as_ref().map(|p| p.as_str()))
                        .push_bind(g.name.as_str())
                        .push_bind(props.as_str())
                        .push_bind(wkb.as_slice());
                });
                insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("its grids"))?;
            }
            for chunk in removed.chunks($crate::store::revision_sql::GRID_ROW_CHUNK) {
                let mut insert = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO grid_revision_grids (revision, id, removed) ",
                );
                insert.push_values(chunk, |mut row, id| {
                    row.push_bind(revision.revision)
                        .push_bind(id.as_str())
                        .push_bind(true);
                });
                insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("the grids it removes"))?;
            }
            Ok(())
        }

        async fn mark_revision_applied(
            tx: &mut $conn,
            revision: i64,
            at: jiff::Timestamp,
        ) -> Result<bool, $crate::store::StoreError> {
            let done = sqlx::query::<$db>(
                "UPDATE grid_revisions SET state = 'applied', applied_at = $2 \
                 WHERE revision = $1 AND state = 'scheduled'",
            )
            .bind(revision)
            .bind(at.as_millisecond())
            .execute(&mut *tx)
            .await
            .map_err($crate::store::revision_sql::failed(format!(
                "applying scheduled grid revision {revision}"
            )))?;
            Ok(done.rows_affected() == 1)
        }

        async fn cancel_revision(
            tx: &mut $conn,
            revision: i64,
        ) -> Result<bool, $crate::store::StoreError> {
            let failed = || {
                $crate::store::revision_sql::failed(format!(
                    "cancelling scheduled grid revision {revision}"
                ))
            };
            let done = sqlx::query::<$db>(
                "DELETE FROM grid_revisions WHERE revision = $1 AND state = 'scheduled'",
            )
            .bind(revision)
            .execute(&mut *tx)
            .await
            .map_err(failed())?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            // Also explicit, not only the cascade: SQLite enforces foreign
            // keys only where the connection turned them on.
            sqlx::query::<$db>("DELETE FROM grid_revision_grids WHERE revision = $1")
                .bind(revision)
                .execute(&mut *tx)
                .await
                .map_err(failed())?;
            Ok(true)
        }
    };
}

pub(crate) use {impl_grid_history, revision_writes};

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(n: i64, effective_ms: i64, replaces_all: bool) -> GridRevision {
        GridRevision {
            revision: n,
            actor: "t".into(),
            recorded_at: Timestamp::UNIX_EPOCH,
            effective_at: Timestamp::from_millisecond(effective_ms).expect("in range"),
            reason: String::new(),
            summary: String::new(),
            replaces_all,
            state: RevisionState::Applied,
            applied_at: None,
            written: 0,
            removed: 0,
        }
    }

    #[test]
    fn folds_from_the_last_replace_in_force() {
        let all = [
            revision(1, 0, true),
            revision(2, 10, false),
            revision(5, 20, true),
            revision(3, 30, false),
            revision(4, 40, false),
        ];
        let at = |ms| Timestamp::from_millisecond(ms).expect("in range");
        let numbers = |rs: &[GridRevision]| rs.iter().map(|r| r.revision).collect::<Vec<_>>();
        assert_eq!(numbers(needed_for(&all, at(15))), [1, 2]);
        assert_eq!(numbers(needed_for(&all, at(20))), [5]);
        assert_eq!(numbers(needed_for(&all, at(35))), [5, 3]);
        assert!(needed_for(&all[1..2], at(5)).is_empty());
    }
}
