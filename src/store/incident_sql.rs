//! The SQL of [`IncidentStore`](super::incidents::IncidentStore), written
//! once. The incident tables use only types both backends share (64-bit
//! integers, doubles, text) and only standard SQL (`$n` placeholders,
//! `RETURNING`, `LIMIT … OFFSET`), so the statements are identical; what
//! differs is the sqlx database type, which Rust generics over sqlx cannot
//! name without a page of bounds. The macro below is therefore expanded
//! once per backend with its store, database and row types.

/// Implement `IncidentStore` for a store with a `pool` field of the given
/// sqlx database (and `FromRow` for the stored rows of that database).
macro_rules! impl_incident_store {
    ($store:ty, $unit:ty, $db:ty, $row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for $crate::store::incident_row::StoredIncident {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($crate::store::incident_row::StoredIncident {
                    id: row.try_get("id")?,
                    category: row.try_get("category")?,
                    workflow: row.try_get("workflow")?,
                    status: row.try_get("status")?,
                    severity: row.try_get("severity")?,
                    description: row.try_get("description")?,
                    reporter_name: row.try_get("reporter_name")?,
                    reporter_phone: row.try_get("reporter_phone")?,
                    source: row.try_get("source")?,
                    photos: row.try_get("photos")?,
                    lon: row.try_get("lon")?,
                    lat: row.try_get("lat")?,
                    original_lon: row.try_get("original_lon")?,
                    original_lat: row.try_get("original_lat")?,
                    crs: row.try_get("crs")?,
                    grids: [
                        row.try_get("grid_l1")?,
                        row.try_get("grid_l2")?,
                        row.try_get("grid_l3")?,
                        row.try_get("grid_l4")?,
                        row.try_get("grid_l5")?,
                    ],
                    tier: row.try_get("tier")?,
                    responsible_name: row.try_get("responsible_name")?,
                    responsible_phone: row.try_get("responsible_phone")?,
                    owner_name: row.try_get("owner_name")?,
                    owner_phone: row.try_get("owner_phone")?,
                    follow_up_due: row.try_get("follow_up_due")?,
                    reported_at: row.try_get("reported_at")?,
                    updated_at: row.try_get("updated_at")?,
                    tier_since: row.try_get("tier_since")?,
                    deadline: row.try_get("deadline")?,
                    resolved_at: row.try_get("resolved_at")?,
                    closed_at: row.try_get("closed_at")?,
                    version: row.try_get("version")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for $crate::store::incident_row::StoredEvent {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($crate::store::incident_row::StoredEvent {
                    incident_id: row.try_get("incident_id")?,
                    seq: row.try_get("seq")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    kind: row.try_get("kind")?,
                    action: row.try_get("action")?,
                    status_from: row.try_get("status_from")?,
                    status_to: row.try_get("status_to")?,
                    tier_from: row.try_get("tier_from")?,
                    tier_to: row.try_get("tier_to")?,
                    note: row.try_get("note")?,
                    detail: row.try_get("detail")?,
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::incidents::IncidentStore for $store {
            async fn categories(
                &self,
            ) -> Result<Vec<$crate::model::Category>, $crate::store::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query::<$db>(
                    "SELECT code, name, workflow FROM incident_categories ORDER BY position, code",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("loading incident categories"))?;
                rows.into_iter()
                    .map(|row| {
                        $crate::store::incident_row::category(
                            row.try_get("code").unwrap_or_default(),
                            row.try_get("name").unwrap_or_default(),
                            row.try_get("workflow").unwrap_or_default(),
                        )
                    })
                    .collect()
            }

            async fn incident(
                &self,
                id: $crate::model::IncidentId,
            ) -> Result<Option<$crate::model::Incident>, $crate::store::StoreError> {
                sqlx::query_as::<$db, $crate::store::incident_row::StoredIncident>(
                    sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM incidents WHERE id = $1",
                        $crate::store::incident_row::INCIDENT_COLUMNS
                    )),
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading an incident"))?
                .map(|row| row.into_incident())
                .transpose()
            }

            async fn incidents(
                &self,
                filter: &$crate::model::IncidentFilter,
                limit: u32,
                offset: u64,
            ) -> Result<$crate::store::incidents::IncidentPage, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let mut count = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM incidents");
                $crate::store::incident_sql::push_filter!(count, filter);
                let (total,): (i64,) = count
                    .build_query_as()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(failed("counting incidents"))?;
                Ok($crate::store::incidents::IncidentPage {
                    total: u64::try_from(total).unwrap_or(0),
                    incidents: self.incidents_page(filter, limit, offset).await?,
                })
            }

            async fn incidents_page(
                &self,
                filter: &$crate::model::IncidentFilter,
                limit: u32,
                offset: u64,
            ) -> Result<Vec<$crate::model::Incident>, $crate::store::StoreError> {
                let mut page = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM incidents",
                    $crate::store::incident_row::INCIDENT_COLUMNS
                ));
                $crate::store::incident_sql::push_filter!(page, filter);
                // LIMIT and OFFSET are written as numbers, not bound: SQLite
                // plans with a bound LIMIT's value, so it re-prepares such a
                // statement every time the value is bound again, which was a
                // fifth of the CPU of a report (profiled). Both are typed
                // integers, so nothing from a request reaches the SQL text.
                // The order is chosen from a typed value, never the request's text.
                let order = match filter.order {
                    $crate::model::IncidentOrder::Newest => "id DESC",
                    $crate::model::IncidentOrder::Oldest => "id ASC",
                    // Those still being worked on first (a closed or
                    // resolved incident's deadline no longer runs).
                    $crate::model::IncidentOrder::Deadline => {
                        "(resolved_at IS NOT NULL OR closed_at IS NOT NULL), deadline ASC, id DESC"
                    }
                };
                page.push(format!(
                    " ORDER BY {order} LIMIT {limit} OFFSET {}",
                    i64::try_from(offset).unwrap_or(i64::MAX)
                ));
                let rows: Vec<$crate::store::incident_row::StoredIncident> = page
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::incident_sql::failed("listing incidents"))?;
                rows.into_iter().map(|r| r.into_incident()).collect()
            }

            async fn history(
                &self,
                id: $crate::model::IncidentId,
            ) -> Result<Vec<$crate::model::HistoryEntry>, $crate::store::StoreError> {
                let rows = sqlx::query_as::<$db, $crate::store::incident_row::StoredEvent>(
                    sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM incident_history WHERE incident_id = $1 ORDER BY seq",
                        $crate::store::incident_row::EVENT_COLUMNS
                    )),
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading an incident's history"))?;
                rows.into_iter().map(|r| r.into_entry()).collect()
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::incidents::IncidentWrites for $unit {
            async fn create_incidents(
                &mut self,
                news: &[$crate::store::incidents::NewIncident],
            ) -> Result<Vec<$crate::model::Incident>, $crate::store::StoreError> {
                use $crate::store::incident_row::{millis, person_columns};
                let failed = $crate::store::incident_sql::failed;
                let mut created = Vec::with_capacity(news.len());
                if news.is_empty() {
                    return Ok(created);
                }
                let tx = &mut *self.tx;
                for new in news {
                    let (reporter_name, reporter_phone) = person_columns(&new.reporter);
                    let (responsible_name, responsible_phone) = person_columns(&new.responsible);
                    let photos = serde_json::to_string(&new.photos).expect("strings serialise");
                    let status = new.workflow.initial();
                    let at = millis(new.reported_at);
                    let mut insert = sqlx::query_as::<$db, (i64,)>(
                        "INSERT INTO incidents (category, workflow, status, severity, \
                         description, reporter_name, reporter_phone, source, photos, lon, lat, \
                         original_lon, original_lat, crs, grid_l1, grid_l2, grid_l3, grid_l4, \
                         grid_l5, tier, responsible_name, responsible_phone, reported_at, \
                         updated_at, tier_since, deadline, version) VALUES ($1, $2, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                         $21, $22, $23, $23, $23, $24, 1) RETURNING id",
                    )
                    .bind(&new.category)
                    .bind(new.workflow.name())
                    .bind(status.name())
                    .bind(new.severity.name())
                    .bind(&new.description)
                    .bind(reporter_name)
                    .bind(reporter_phone)
                    .bind(new.source.name())
                    .bind(photos)
                    .bind(new.point.wgs84.lon)
                    .bind(new.point.wgs84.lat)
                    .bind(new.point.original.lon)
                    .bind(new.point.original.lat)
                    .bind(new.point.crs.name());
                    for grid in &new.chain {
                        insert = insert.bind(grid.as_ref().map(|g| g.0.as_str()));
                    }
                    let (id,) = insert
                        .bind(i64::from(new.tier.number()))
                        .bind(responsible_name)
                        .bind(responsible_phone)
                        .bind(at)
                        .bind(millis(new.deadline))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(failed("recording an incident"))?;
                    let event = $crate::store::incidents::NewEvent {
                        at: new.reported_at,
                        actor: new.actor.clone(),
                        kind: $crate::model::EventKind::Created,
                        action: None,
                        note: new.note.clone(),
                        detail: serde_json::json!({}),
                    };
                    $crate::store::incident_sql::insert_event!(
                        $db,
                        &mut *tx,
                        id,
                        1i64,
                        (status, new.tier),
                        (status, new.tier),
                        &event
                    );
                    // Built, not read back: the conformance suite checks
                    // that a read gives the same incident.
                    created.push($crate::store::incident_row::created(id, new));
                }
                Ok(created)
            }

            async fn update_incident(
                &mut self,
                previous: &$crate::model::Incident,
                changed: &$crate::model::Incident,
                event: &$crate::store::incidents::NewEvent,
            ) -> Result<$crate::model::Incident, $crate::store::StoreError> {
                use $crate::store::incident_row::{millis, person_columns};
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let (responsible_name, responsible_phone) = person_columns(&changed.responsible);
                let (owner_name, owner_phone) = person_columns(&changed.owner);
                // Guarded by the version read: a concurrent change makes this
                // touch no row, and nothing is written.
                let mut update = sqlx::query::<$db>(
                    "UPDATE incidents SET status = $1, severity = $2, tier = $3, \
                     responsible_name = $4, responsible_phone = $5, owner_name = $6, \
                     owner_phone = $7, follow_up_due = $8, updated_at = $9, tier_since = $10, \
                     deadline = $11, resolved_at = $12, closed_at = $13, grid_l1 = $16, \
                     grid_l2 = $17, grid_l3 = $18, grid_l4 = $19, grid_l5 = $20, \
                     version = version + 1 WHERE id = $14 AND version = $15",
                )
                .bind(changed.status.name())
                .bind(changed.severity.name())
                .bind(i64::from(changed.tier.number()))
                .bind(responsible_name)
                .bind(responsible_phone)
                .bind(owner_name)
                .bind(owner_phone)
                .bind(changed.follow_up_due.map(millis))
                .bind(millis(changed.updated_at))
                .bind(millis(changed.tier_since))
                .bind(millis(changed.deadline))
                .bind(changed.resolved_at.map(millis))
                .bind(changed.closed_at.map(millis))
                .bind(previous.id.0)
                .bind(previous.version);
                // The grid chain moves only when the grids are redrawn.
                for grid in &changed.chain {
                    update = update.bind(grid.as_ref().map(|g| g.0.as_str()));
                }
                let updated = update
                .execute(&mut *tx)
                .await
                .map_err(failed("updating an incident"))?;
                if updated.rows_affected() != 1 {
                    return Err($crate::store::StoreError::Conflict {
                        id: previous.id,
                        version: previous.version,
                    });
                }
                let (seq,): (i64,) = sqlx::query_as::<$db, (i64,)>(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_history WHERE incident_id = $1",
                )
                .bind(previous.id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(failed("numbering a history entry"))?;
                $crate::store::incident_sql::insert_event!(
                    $db,
                    &mut *tx,
                    previous.id.0,
                    seq,
                    (previous.status, previous.tier),
                    (changed.status, changed.tier),
                    event
                );
                let stored = sqlx::query_as::<$db, $crate::store::incident_row::StoredIncident>(
                    sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM incidents WHERE id = $1",
                        $crate::store::incident_row::INCIDENT_COLUMNS
                    )),
                )
                .bind(previous.id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(failed("reading an updated incident"))?;
                stored.into_incident()
            }

            async fn read_incidents_in(
                &mut self,
                statuses: &[$crate::model::Status],
            ) -> Result<Vec<$crate::model::Incident>, $crate::store::StoreError> {
                let mut rows = Vec::new();
                // One status at a time: a bound list reads the same on both
                // backends, an `IN` list would not.
                for status in statuses {
                    rows.extend(
                        sqlx::query_as::<$db, $crate::store::incident_row::StoredIncident>(
                            sqlx::AssertSqlSafe(format!(
                                "SELECT {} FROM incidents WHERE status = $1",
                                $crate::store::incident_row::INCIDENT_COLUMNS
                            )),
                        )
                        .bind(status.name())
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err($crate::store::incident_sql::failed("reading open incidents"))?,
                    );
                }
                let mut incidents = rows
                    .into_iter()
                    .map(|r| r.into_incident())
                    .collect::<Result<Vec<_>, _>>()?;
                incidents.sort_by_key(|i| i.id.0);
                Ok(incidents)
            }

            async fn read_incidents_in_grids(
                &mut self,
                statuses: &[$crate::model::Status],
                grids: &[($crate::model::Level, Option<$crate::model::GridId>)],
            ) -> Result<Vec<$crate::model::Incident>, $crate::store::StoreError> {
                let mut rows = Vec::new();
                for (level, grid) in grids {
                    let test = $crate::store::incident_sql::grid_test(*level, grid.is_some(), 2);
                    for status in statuses {
                        let sql = format!(
                            "SELECT {} FROM incidents WHERE status = $1 AND {test}",
                            $crate::store::incident_row::INCIDENT_COLUMNS
                        );
                        let query = sqlx::query_as::<$db, $crate::store::incident_row::StoredIncident>(
                            sqlx::AssertSqlSafe(sql),
                        )
                        .bind(status.name());
                        let query = match grid {
                            Some(id) => query.bind(id.as_str()),
                            None => query,
                        };
                        rows.extend(query.fetch_all(&mut *self.tx).await.map_err(
                            $crate::store::incident_sql::failed("reading open incidents in grids"),
                        )?);
                    }
                }
                let mut incidents = rows
                    .into_iter()
                    .map(|r| r.into_incident())
                    .collect::<Result<Vec<_>, _>>()?;
                incidents.sort_by_key(|i| i.id.0);
                incidents.dedup_by_key(|i| i.id.0);
                Ok(incidents)
            }
        }
    };
}

/// Append one history entry inside a transaction (a statement, not a
/// function, for the same reason as the macro above).
macro_rules! insert_event {
    ($db:ty, $executor:expr, $incident:expr, $seq:expr, $before:expr, $after:expr, $event:expr) => {{
        let event: &$crate::store::incidents::NewEvent = $event;
        let (before, after): (
            ($crate::model::Status, $crate::model::Tier),
            ($crate::model::Status, $crate::model::Tier),
        ) = ($before, $after);
        sqlx::query::<$db>(
            "INSERT INTO incident_history (incident_id, seq, at, actor, kind, action, \
             status_from, status_to, tier_from, tier_to, note, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind($incident)
        .bind($seq)
        .bind($crate::store::incident_row::millis(event.at))
        .bind(event.actor.as_str())
        .bind(event.kind.name())
        .bind(event.action.map(|a| a.name()))
        .bind(before.0.name())
        .bind(after.0.name())
        .bind(i64::from(before.1.number()))
        .bind(i64::from(after.1.number()))
        .bind(event.note.as_deref())
        .bind(event.detail.to_string())
        .execute($executor)
        .await
        .map_err($crate::store::incident_sql::failed(
            "recording a history entry",
        ))?;
    }};
}

/// Append the WHERE clause of an [`IncidentFilter`] to a query builder.
///
/// [`IncidentFilter`]: super::incidents::IncidentFilter
macro_rules! push_filter {
    ($builder:expr, $filter:expr) => {{
        let filter: &$crate::model::IncidentFilter = $filter;
        $builder.push(" WHERE 1 = 1");
        if !filter.statuses.is_empty() {
            $builder.push(" AND status IN (");
            let mut list = $builder.separated(", ");
            for status in &filter.statuses {
                list.push_bind(status.name());
            }
            $builder.push(")");
        }
        if let Some(category) = &filter.category {
            $builder
                .push(" AND category = ")
                .push_bind(category.clone());
        }
        if let Some((level, grid)) = &filter.grid {
            // The column is chosen from a typed level (1 to 5), never from
            // the request's text.
            $builder
                .push(format!(" AND grid_l{} = ", level.get()))
                .push_bind(grid.0.clone());
        }
        if let Some(tier) = filter.tier {
            $builder
                .push(" AND tier = ")
                .push_bind(i64::from(tier.number()));
        }
        if let Some(from) = filter.reported_from {
            $builder
                .push(" AND reported_at >= ")
                .push_bind($crate::store::incident_row::millis(from));
        }
        if let Some(to) = filter.reported_to {
            $builder
                .push(" AND reported_at < ")
                .push_bind($crate::store::incident_row::millis(to));
        }
        if let Some(b) = filter.bbox {
            $builder
                .push(" AND lon >= ")
                .push_bind(b.min_lon)
                .push(" AND lon <= ")
                .push_bind(b.max_lon)
                .push(" AND lat >= ")
                .push_bind(b.min_lat)
                .push(" AND lat <= ")
                .push_bind(b.max_lat);
        }
        if let Some(search) = &filter.search {
            // LIKE with its wildcards escaped: the text is matched as text.
            let escaped = search
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            $builder
                .push(" AND (LOWER(description) LIKE ")
                .push_bind(format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
            // `#123`, as the list shows numbers, or `123`.
            match search.trim().trim_start_matches('#').parse::<i64>() {
                Ok(id) => {
                    $builder.push(" OR id = ").push_bind(id).push(")");
                }
                Err(_) => {
                    $builder.push(")");
                }
            }
        }
        if let Some(now) = filter.overdue_at {
            $builder.push(" AND status IN (");
            let mut list = $builder.separated(", ");
            for status in $crate::model::Status::open() {
                list.push_bind(status.name());
            }
            $builder
                .push(") AND deadline < ")
                .push_bind($crate::store::incident_row::millis(now));
        }
    }};
}

pub(crate) use {impl_incident_store, insert_event, push_filter};

/// The condition on an incident's or hazard's grid at `level`: equal to
/// the bound parameter `$n` when `bound`, else no grid at that level. The
/// column is one of five fixed names, never input.
pub(crate) fn grid_test(level: crate::model::Level, bound: bool, n: usize) -> String {
    let column = format!("grid_l{}", level.get());
    if bound {
        format!("{column} = ${n}")
    } else {
        format!("{column} IS NULL")
    }
}

/// A database error, saying what was being done.
pub(crate) fn failed(action: &'static str) -> impl FnOnce(sqlx::Error) -> super::StoreError {
    move |source| super::StoreError::Database {
        action: action.to_owned(),
        source,
    }
}
