//! The SQL of [`PatrolStore`](super::patrols::PatrolStore), written once and
//! expanded per backend, for the same reason as `incident_sql.rs`: the
//! statements are identical standard SQL, only the sqlx database type differs.

/// Implement `PatrolStore` for a store with a `pool` field of the given sqlx
/// database.
macro_rules! impl_patrol_store {
    ($store:ty, $unit:ty, $db:ty, $row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for $crate::store::patrols::StoredHazard {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($crate::store::patrols::StoredHazard {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    category: row.try_get("category")?,
                    risk: row.try_get("risk")?,
                    interval_days: row.try_get("interval_days")?,
                    status: row.try_get("status")?,
                    lon: row.try_get("lon")?,
                    lat: row.try_get("lat")?,
                    area: row.try_get("area")?,
                    description: row.try_get("description")?,
                    grids: [
                        row.try_get("grid_l1")?,
                        row.try_get("grid_l2")?,
                        row.try_get("grid_l3")?,
                        row.try_get("grid_l4")?,
                        row.try_get("grid_l5")?,
                    ],
                    last_inspected_at: row.try_get("last_inspected_at")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                    version: row.try_get("version")?,
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::patrols::PatrolStore for $store {
            async fn hazards(&self) -> Result<Vec<$crate::model::Hazard>, $crate::store::StoreError> {
                sqlx::query_as::<$db, $crate::store::patrols::StoredHazard>(sqlx::AssertSqlSafe(
                    format!(
                        "SELECT {} FROM hazards ORDER BY id",
                        $crate::store::patrols::HAZARD_COLUMNS
                    ),
                ))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("loading hazards"))?
                .into_iter()
                .map(|row| row.into_hazard())
                .collect()
            }

            async fn hazard(
                &self,
                id: $crate::model::HazardId,
            ) -> Result<Option<$crate::model::Hazard>, $crate::store::StoreError> {
                sqlx::query_as::<$db, $crate::store::patrols::StoredHazard>(sqlx::AssertSqlSafe(
                    format!(
                        "SELECT {} FROM hazards WHERE id = $1",
                        $crate::store::patrols::HAZARD_COLUMNS
                    ),
                ))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading a hazard"))?
                .map(|row| row.into_hazard())
                .transpose()
            }

            async fn roads(
                &self,
            ) -> Result<Vec<$crate::model::RoadLine>, $crate::store::StoreError> {
                sqlx::query_as::<$db, (i64, Option<String>, String, String)>(
                    "SELECT position, name, class, coords FROM roads ORDER BY position",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("loading roads"))?
                .into_iter()
                .map(|(position, name, class, coords)| {
                    $crate::store::patrols::road_line(position, name, &class, &coords)
                })
                .collect()
            }

            async fn route(
                &self,
                id: $crate::model::RouteId,
            ) -> Result<Option<$crate::model::Route>, $crate::store::StoreError> {
                sqlx::query_as::<$db, (i64, String)>("SELECT id, body FROM patrol_routes WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::incident_sql::failed("reading a route"))?
                    .map(|(id, body)| $crate::store::patrols::document("route", id, &body))
                    .transpose()
            }

            async fn routes(
                &self,
                grid: Option<&$crate::model::GridId>,
            ) -> Result<Vec<$crate::model::Route>, $crate::store::StoreError> {
                let rows = match grid {
                    Some(grid) => sqlx::query_as::<$db, (i64, String)>(
                        "SELECT r.id, r.body FROM patrol_routes r WHERE r.id IN \
                         (SELECT route_id FROM patrol_route_grids WHERE grid_id = $1) ORDER BY r.id",
                    )
                    .bind(grid.as_str())
                    .fetch_all(&self.pool)
                    .await,
                    None => sqlx::query_as::<$db, (i64, String)>(
                        "SELECT id, body FROM patrol_routes ORDER BY id",
                    )
                    .fetch_all(&self.pool)
                    .await,
                }
                .map_err($crate::store::incident_sql::failed("listing routes"))?;
                rows.into_iter()
                    .map(|(id, body)| $crate::store::patrols::document("route", id, &body))
                    .collect()
            }

            async fn patrol(
                &self,
                id: $crate::model::PatrolId,
            ) -> Result<Option<$crate::model::Patrol>, $crate::store::StoreError> {
                sqlx::query_as::<$db, (i64, String)>("SELECT id, body FROM patrols WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::incident_sql::failed("reading a patrol"))?
                    .map(|(id, body)| $crate::store::patrols::document("patrol", id, &body))
                    .transpose()
            }

            async fn patrols(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
                route: Option<$crate::model::RouteId>,
            ) -> Result<Vec<$crate::model::Patrol>, $crate::store::StoreError> {
                sqlx::query_as::<$db, (i64, String)>(
                    "SELECT id, body FROM patrols WHERE started_at >= $1 AND started_at < $2 \
                     AND ($3 IS NULL OR route_id = $3) ORDER BY id",
                )
                .bind(from.as_millisecond())
                .bind(to.as_millisecond())
                .bind(route.map(|r| r.0))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("listing patrols"))?
                .into_iter()
                .map(|(id, body)| $crate::store::patrols::document("patrol", id, &body))
                .collect()
            }

            async fn inspections(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
                hazard: Option<$crate::model::HazardId>,
            ) -> Result<Vec<$crate::store::patrols::Inspection>, $crate::store::StoreError> {
                // One hazard's by the primary key's prefix (a statement of
                // its own, so that the planner can use it); all by time.
                let query = match hazard {
                    Some(hazard) => sqlx::query_as::<$db, (i64, i64, i64)>(
                        "SELECT hazard_id, patrol_id, at FROM hazard_inspections \
                         WHERE hazard_id = $1 AND at >= $2 AND at < $3 ORDER BY at",
                    )
                    .bind(hazard.0),
                    None => sqlx::query_as::<$db, (i64, i64, i64)>(
                        "SELECT hazard_id, patrol_id, at FROM hazard_inspections \
                         WHERE at >= $1 AND at < $2 ORDER BY at, hazard_id",
                    ),
                };
                query
                .bind(from.as_millisecond())
                .bind(to.as_millisecond())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("listing inspections"))?
                .into_iter()
                .map(|(hazard, patrol, at)| {
                    Ok($crate::store::patrols::Inspection {
                        hazard: $crate::model::HazardId(hazard),
                        patrol: $crate::model::PatrolId(patrol),
                        at: jiff::Timestamp::from_millisecond(at).map_err(|_| {
                            $crate::store::StoreError::Corrupt {
                                id: format!("inspection of hazard {hazard}"),
                                reason: format!("time {at} is out of range"),
                            }
                        })?,
                    })
                })
                .collect()
            }

            async fn photo(
                &self,
                token: &str,
                thumbnail: bool,
            ) -> Result<Option<$crate::model::PhotoBytes>, $crate::store::StoreError> {
                let sql = if thumbnail {
                    "SELECT content_type, thumbnail FROM photos WHERE token = $1"
                } else {
                    "SELECT content_type, bytes FROM photos WHERE token = $1"
                };
                let row = sqlx::query_as::<$db, (String, Vec<u8>)>(sql)
                .bind(token)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading a photo"))?;
                Ok(row.map(|(content_type, bytes)| $crate::model::PhotoBytes {
                    // A thumbnail is always a JPEG.
                    content_type: if thumbnail { "image/jpeg".to_owned() } else { content_type },
                    bytes,
                }))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::patrols::PatrolWrites for $unit {
            async fn create_hazards(
                &mut self,
                news: &[$crate::store::patrols::NewHazard],
            ) -> Result<Vec<$crate::model::Hazard>, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let mut created = Vec::with_capacity(news.len());
                for new in news {
                    let d = &new.draft;
                    let at = new.at.as_millisecond();
                    let mut insert = sqlx::query_as::<$db, (i64,)>(
                        "INSERT INTO hazards (name, category, risk, interval_days, status, lon, \
                         lat, area, description, grid_l1, grid_l2, grid_l3, grid_l4, grid_l5, \
                         last_inspected_at, created_at, updated_at, version) VALUES ($1, $2, $3, \
                         $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, 1) \
                         RETURNING id",
                    )
                    .bind(&d.name)
                    .bind(&d.category)
                    .bind(d.risk.name())
                    .bind(i64::from(d.interval_days()))
                    .bind(d.status.name())
                    .bind(d.location.lon)
                    .bind(d.location.lat)
                    .bind(d.area.as_ref().map(|a| a.to_string()))
                    .bind(&d.description);
                    for grid in &new.chain {
                        insert = insert.bind(grid.as_ref().map(|g| g.0.as_str()));
                    }
                    let (id,) = insert
                        .bind(d.last_inspected_at.map(|t| t.as_millisecond()))
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(failed("registering a hazard"))?;
                    let at = jiff::Timestamp::from_millisecond(at).expect("was a timestamp");
                    created.push($crate::model::Hazard {
                        id: $crate::model::HazardId(id),
                        name: d.name.clone(),
                        category: d.category.clone(),
                        risk: d.risk,
                        interval_days: d.interval_days(),
                        status: d.status,
                        location: d.location,
                        area: d.area.clone(),
                        description: d.description.clone(),
                        chain: new.chain.clone(),
                        last_inspected_at: d.last_inspected_at.map(|t| {
                            jiff::Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t)
                        }),
                        created_at: at,
                        updated_at: at,
                        version: 1,
                    });
                }
                Ok(created)
            }

            async fn update_hazard(
                &mut self,
                h: &$crate::model::Hazard,
            ) -> Result<Option<$crate::model::Hazard>, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let mut update = sqlx::query::<$db>(
                    "UPDATE hazards SET name = $1, category = $2, risk = $3, interval_days = $4, \
                     status = $5, lon = $6, lat = $7, area = $8, description = $9, \
                     grid_l1 = $10, grid_l2 = $11, grid_l3 = $12, grid_l4 = $13, grid_l5 = $14, \
                     updated_at = $15, version = version + 1 WHERE id = $16 AND version = $17",
                )
                .bind(&h.name)
                .bind(&h.category)
                .bind(h.risk.name())
                .bind(i64::from(h.interval_days))
                .bind(h.status.name())
                .bind(h.location.lon)
                .bind(h.location.lat)
                .bind(h.area.as_ref().map(|a| a.to_string()))
                .bind(&h.description);
                for grid in &h.chain {
                    update = update.bind(grid.as_ref().map(|g| g.0.as_str()));
                }
                // The last inspection is the patrols' to move (update_patrol),
                // never a hazard edit's: an edit read before a patrol's visit
                // must not put it back.
                let done = update
                    .bind(h.updated_at.as_millisecond())
                    .bind(h.id.0)
                    .bind(h.version)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(failed("updating a hazard"))?;
                if done.rows_affected() == 1 {
                    let mut stored = h.clone();
                    stored.version += 1;
                    stored.updated_at =
                        jiff::Timestamp::from_millisecond(h.updated_at.as_millisecond())
                            .unwrap_or(h.updated_at);
                    return Ok(Some(stored));
                }
                $crate::store::patrol_sql::stale_or_gone!($db, &mut *self.tx, "hazards", "hazard", h.id.0, h.version)
            }

            async fn relocate_hazards(
                &mut self,
                moves: &[($crate::model::HazardId, i64, $crate::model::GridChain)],
            ) -> Result<(), $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                for (id, version, chain) in moves {
                    // A hazard changed since it was read refuses the whole
                    // change (the caller read it in this transaction, so
                    // only a concurrent writer on PostgreSQL can cause it).
                    let mut update = sqlx::query::<$db>(
                        "UPDATE hazards SET grid_l1 = $1, grid_l2 = $2, grid_l3 = $3, \
                         grid_l4 = $4, grid_l5 = $5, version = version + 1 \
                         WHERE id = $6 AND version = $7",
                    );
                    for grid in chain {
                        update = update.bind(grid.as_ref().map(|g| g.0.as_str()));
                    }
                    let done = update
                        .bind(id.0)
                        .bind(version)
                        .execute(&mut *tx)
                        .await
                        .map_err(failed("relocating a hazard"))?;
                    if done.rows_affected() != 1 {
                        return Err($crate::store::StoreError::Stale {
                            what: format!("hazard {}", id.0),
                            version: *version,
                        });
                    }
                }
                Ok(())
            }

            async fn delete_hazard(
                &mut self,
                id: $crate::model::HazardId,
                version: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM hazards WHERE id = $1 AND version = $2")
                    .bind(id.0)
                    .bind(version)
                    .execute(&mut *self.tx)
                    .await
                    .map_err($crate::store::incident_sql::failed("deleting a hazard"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn replace_roads(
                &mut self,
                lines: &[$crate::model::RoadLine],
            ) -> Result<(), $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                sqlx::query::<$db>("DELETE FROM roads")
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("clearing roads"))?;
                for (position, line) in lines.iter().enumerate() {
                    sqlx::query::<$db>(
                        "INSERT INTO roads (position, name, class, coords) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(position as i64)
                    .bind(line.name.as_deref())
                    .bind(line.class.name())
                    .bind(serde_json::to_string(&line.coords).expect("coordinates serialise"))
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("writing a road"))?;
                }
                Ok(())
            }

            async fn create_route(
                &mut self,
                route: &$crate::model::Route,
            ) -> Result<$crate::model::Route, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let (id,) = sqlx::query_as::<$db, (i64,)>(
                    "INSERT INTO patrol_routes (grid_id, shift, body, created_at, updated_at, \
                     version) VALUES ($1, $2, '{}', $3, $3, 1) RETURNING id",
                )
                .bind(route.grid.as_str())
                .bind(route.shift.name())
                .bind(route.created_at.as_millisecond())
                .fetch_one(&mut *tx)
                .await
                .map_err(failed("saving a route"))?;
                let mut saved = route.clone();
                saved.id = $crate::model::RouteId(id);
                saved.version = 1;
                $crate::store::patrol_sql::write_route_body!($db, &mut *tx, &saved);
                Ok(saved)
            }

            async fn update_route(
                &mut self,
                route: &$crate::model::Route,
            ) -> Result<Option<$crate::model::Route>, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let done = sqlx::query::<$db>(
                    "UPDATE patrol_routes SET version = version + 1, updated_at = $1 \
                     WHERE id = $2 AND version = $3",
                )
                .bind(route.updated_at.as_millisecond())
                .bind(route.id.0)
                .bind(route.version)
                .execute(&mut *tx)
                .await
                .map_err(failed("updating a route"))?;
                if done.rows_affected() != 1 {
                    return $crate::store::patrol_sql::stale_or_gone!(
                        $db,
                        &mut *tx,
                        "patrol_routes",
                        "route",
                        route.id.0,
                        route.version
                    );
                }
                let mut saved = route.clone();
                saved.version += 1;
                sqlx::query::<$db>("DELETE FROM patrol_route_grids WHERE route_id = $1")
                    .bind(route.id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("clearing a route's grids"))?;
                $crate::store::patrol_sql::write_route_body!($db, &mut *tx, &saved);
                Ok(Some(saved))
            }

            async fn delete_route(
                &mut self,
                id: $crate::model::RouteId,
                version: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let (walked,) = sqlx::query_as::<$db, (i64,)>(
                    "SELECT COUNT(*) FROM patrols WHERE route_id = $1",
                )
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(failed("counting a route's patrols"))?;
                if walked > 0 {
                    let route = id.0;
                    return Err($crate::store::StoreError::InUse($crate::text!(
                        "route {route} has been walked on {walked} patrol(s); their records keep it",
                        "路线 {route} 已用于 {walked} 次巡查，这些巡查记录仍引用该路线"
                    )));
                }
                // The grids first (they reference the route); should the
                // route not be at `version`, the caller rolls the unit back
                // and they are there again.
                sqlx::query::<$db>("DELETE FROM patrol_route_grids WHERE route_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("deleting a route's grids"))?;
                let done = sqlx::query::<$db>(
                    "DELETE FROM patrol_routes WHERE id = $1 AND version = $2",
                )
                .bind(id.0)
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(failed("deleting a route"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_patrol(
                &mut self,
                patrol: &$crate::model::Patrol,
            ) -> Result<$crate::model::Patrol, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let (id,) = sqlx::query_as::<$db, (i64,)>(
                    "INSERT INTO patrols (route_id, started_at, body, version) \
                     VALUES ($1, $2, '{}', 1) RETURNING id",
                )
                .bind(patrol.route.0)
                .bind(patrol.started_at.as_millisecond())
                .fetch_one(&mut *tx)
                .await
                .map_err(failed("starting a patrol"))?;
                let mut saved = patrol.clone();
                saved.id = $crate::model::PatrolId(id);
                saved.version = 1;
                sqlx::query::<$db>("UPDATE patrols SET body = $1 WHERE id = $2")
                    .bind(serde_json::to_string(&saved).expect("a patrol serialises"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("writing a patrol"))?;
                Ok(saved)
            }

            async fn update_patrol(
                &mut self,
                patrol: &$crate::model::Patrol,
                inspected: &[($crate::model::HazardId, jiff::Timestamp)],
            ) -> Result<Option<$crate::model::Patrol>, $crate::store::StoreError> {
                let failed = $crate::store::incident_sql::failed;
                let tx = &mut *self.tx;
                let mut saved = patrol.clone();
                saved.version += 1;
                let done = sqlx::query::<$db>(
                    "UPDATE patrols SET body = $1, version = version + 1 \
                     WHERE id = $2 AND version = $3",
                )
                .bind(serde_json::to_string(&saved).expect("a patrol serialises"))
                .bind(patrol.id.0)
                .bind(patrol.version)
                .execute(&mut *tx)
                .await
                .map_err(failed("updating a patrol"))?;
                if done.rows_affected() != 1 {
                    return $crate::store::patrol_sql::stale_or_gone!(
                        $db,
                        &mut *tx,
                        "patrols",
                        "patrol",
                        patrol.id.0,
                        patrol.version
                    );
                }
                // By hazard id: the same order as a grid change relocating
                // hazards, so two such transactions cannot deadlock.
                let mut inspected = inspected.to_vec();
                inspected.sort_by_key(|(hazard, _)| hazard.0);
                for (hazard, at) in &inspected {
                    let at = at.as_millisecond();
                    sqlx::query::<$db>(
                        "INSERT INTO hazard_inspections (hazard_id, patrol_id, at) \
                         VALUES ($1, $2, $3) ON CONFLICT (hazard_id, patrol_id) DO NOTHING",
                    )
                    .bind(hazard.0)
                    .bind(patrol.id.0)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("recording an inspection"))?;
                    sqlx::query::<$db>(
                        "UPDATE hazards SET last_inspected_at = $1 WHERE id = $2 AND \
                         (last_inspected_at IS NULL OR last_inspected_at < $1)",
                    )
                    .bind(at)
                    .bind(hazard.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("moving a hazard's last inspection"))?;
                }
                Ok(Some(saved))
            }

            async fn read_hazards(
                &mut self,
            ) -> Result<Vec<$crate::model::Hazard>, $crate::store::StoreError> {
                sqlx::query_as::<$db, $crate::store::patrols::StoredHazard>(sqlx::AssertSqlSafe(
                    format!(
                        "SELECT {} FROM hazards ORDER BY id",
                        $crate::store::patrols::HAZARD_COLUMNS
                    ),
                ))
                .fetch_all(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("loading hazards"))?
                .into_iter()
                .map(|row| row.into_hazard())
                .collect()
            }

            async fn read_hazards_in_grids(
                &mut self,
                grids: &[($crate::model::Level, Option<$crate::model::GridId>)],
            ) -> Result<Vec<$crate::model::Hazard>, $crate::store::StoreError> {
                let mut hazards = Vec::new();
                for (level, grid) in grids {
                    let test = $crate::store::incident_sql::grid_test(*level, grid.is_some(), 1);
                    let sql = format!(
                        "SELECT {} FROM hazards WHERE {test}",
                        $crate::store::patrols::HAZARD_COLUMNS
                    );
                    let query = sqlx::query_as::<$db, $crate::store::patrols::StoredHazard>(
                        sqlx::AssertSqlSafe(sql),
                    );
                    let query = match grid {
                        Some(id) => query.bind(id.as_str()),
                        None => query,
                    };
                    for row in query.fetch_all(&mut *self.tx).await.map_err(
                        $crate::store::incident_sql::failed("reading the hazards in grids"),
                    )? {
                        hazards.push(row.into_hazard()?);
                    }
                }
                hazards.sort_by_key(|h: &$crate::model::Hazard| h.id.0);
                hazards.dedup_by_key(|h| h.id.0);
                Ok(hazards)
            }

            async fn read_routes(
                &mut self,
            ) -> Result<Vec<$crate::model::Route>, $crate::store::StoreError> {
                sqlx::query_as::<$db, (i64, String)>("SELECT id, body FROM patrol_routes ORDER BY id")
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err($crate::store::incident_sql::failed("listing routes"))?
                    .into_iter()
                    .map(|(id, body)| $crate::store::patrols::document("route", id, &body))
                    .collect()
            }

            async fn create_photo(
                &mut self,
                photo: &$crate::model::NewPhoto,
            ) -> Result<i64, $crate::store::StoreError> {
                let (id,) = sqlx::query_as::<$db, (i64,)>(
                    "INSERT INTO photos (token, content_type, bytes, thumbnail, width, height, \
                     uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&photo.token)
                .bind(&photo.content_type)
                .bind(&photo.bytes)
                .bind(&photo.thumbnail)
                .bind(i64::from(photo.width))
                .bind(i64::from(photo.height))
                .bind(&photo.uploaded_by)
                .bind(photo.uploaded_at.as_millisecond())
                .fetch_one(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("saving a photo"))?;
                Ok(id)
            }

            async fn photo_uploads_since(
                &mut self,
                uploaded_by: &str,
                since: jiff::Timestamp,
            ) -> Result<$crate::model::PhotoUploads, $crate::store::StoreError> {
                // `length` of a BLOB (SQLite) or bytea (PostgreSQL) is bytes.
                let (count, bytes, oldest) = sqlx::query_as::<$db, (i64, i64, Option<i64>)>(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(length(bytes)), 0) AS BIGINT), \
                     MIN(uploaded_at) FROM photos WHERE uploaded_by = $1 AND uploaded_at >= $2",
                )
                .bind(uploaded_by)
                .bind(since.as_millisecond())
                .fetch_one(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("counting an account's photos"))?;
                Ok($crate::model::PhotoUploads {
                    count: u64::try_from(count).unwrap_or(0),
                    bytes: u64::try_from(bytes).unwrap_or(0),
                    oldest: oldest.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
                })
            }
        }
    };
}

/// What a guarded update that changed no row means: `Ok(None)` when the
/// record is gone, [`StoreError::Stale`](crate::store::StoreError::Stale)
/// when it exists at another version.
macro_rules! stale_or_gone {
    ($db:ty, $executor:expr, $table:literal, $what:literal, $id:expr, $version:expr) => {{
        let exists =
            sqlx::query_as::<$db, (i64,)>(concat!("SELECT id FROM ", $table, " WHERE id = $1"))
                .bind($id)
                .fetch_optional($executor)
                .await
                .map_err($crate::store::incident_sql::failed(concat!(
                    "reading a ",
                    $what
                )))?;
        match exists {
            None => Ok(None),
            Some(_) => Err($crate::store::StoreError::Stale {
                what: format!(concat!($what, " {}"), $id),
                version: $version,
            }),
        }
    }};
}

/// Write a saved route's document and its grids (inside a transaction).
macro_rules! write_route_body {
    ($db:ty, $tx:expr, $route:expr) => {{
        let route: &$crate::model::Route = $route;
        let failed = $crate::store::incident_sql::failed;
        sqlx::query::<$db>(
            "UPDATE patrol_routes SET body = $1, grid_id = $2, shift = $3 WHERE id = $4",
        )
        .bind(serde_json::to_string(route).expect("a route serialises"))
        .bind(route.grid.as_str())
        .bind(route.shift.name())
        .bind(route.id.0)
        .execute(&mut *$tx)
        .await
        .map_err(failed("writing a route"))?;
        for grid in &route.grids {
            sqlx::query::<$db>(
                "INSERT INTO patrol_route_grids (route_id, grid_id) VALUES ($1, $2)",
            )
            .bind(route.id.0)
            .bind(grid.as_str())
            .execute(&mut *$tx)
            .await
            .map_err(failed("recording a route's grids"))?;
        }
    }};
}

pub(crate) use {impl_patrol_store, stale_or_gone, write_route_body};
