//! GeoPackage files (OGC 12-128r18: an SQLite database with a feature
//! table and its metadata), read and written through sqlx's SQLite.
//!
//! Reading takes the file's one feature layer: its geometry column, its
//! coordinate system (`gpkg_spatial_ref_sys`, by EPSG code, see
//! [`PlanningCrs`]) and every other column as an attribute, and answers
//! the features as GeoJSON in longitude/latitude for the import to check
//! (so a GeoPackage is refused with the GeoJSON import's messages). A
//! geometry is a GeoPackage binary header (magic, flags, SRS id, optional
//! envelope) followed by WKB; the header is read here, the WKB by geozero.
//!
//! Writing creates the tables the standard requires, one layer `grids`
//! with the attributes a Shapefile export carries, in the system asked for.

use std::path::Path;

use geo::{BoundingRect, Coord, MapCoords, MultiPolygon};
use serde_json::{Map, Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Column, ConnectOptions, Connection, Row, TypeInfo};

use crate::geom::wkb::{WkbError, from_wkb, to_wkb};
use crate::geom::{LonLat, PlanningCrs, UnsupportedCrs};
use crate::model::{Grid, Localized, Text};
use crate::text;

/// Why a GeoPackage could not be read or written, naming the layer,
/// feature (`#N`, by row) and field where there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{detail}", where_(.layer, .feature, .field))]
pub struct GeoPackageError {
    /// The layer, if one was found.
    pub layer: Option<String>,
    /// The feature, `#N` by position.
    pub feature: Option<String>,
    /// The column.
    pub field: Option<String>,
    /// What is wrong.
    pub detail: Text,
}

impl Localized for GeoPackageError {
    fn zh(&self) -> String {
        let mut s = String::new();
        if let Some(l) = &self.layer {
            s.push_str(&format!("图层 {l}"));
            if let Some(f) = &self.feature {
                s.push_str(&format!("，要素 {f}"));
            }
            if let Some(f) = &self.field {
                s.push_str(&format!("，字段 {f}"));
            }
            s.push('：');
        }
        s.push_str(self.detail.zh());
        s
    }
}

fn where_(layer: &Option<String>, feature: &Option<String>, field: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(l) = layer {
        s.push_str(&format!("layer {l}"));
        if let Some(f) = feature {
            s.push_str(&format!(", feature {f}"));
        }
        if let Some(f) = field {
            s.push_str(&format!(", field {f}"));
        }
        s.push_str(": ");
    }
    s
}

fn failed(detail: Text) -> GeoPackageError {
    GeoPackageError {
        layer: None,
        feature: None,
        field: None,
        detail,
    }
}

/// A failure of the database while writing a GeoPackage.
fn writing(e: sqlx::Error) -> GeoPackageError {
    failed(text!("{e}", "写入 GeoPackage 失败：{e}"))
}

/// [`UnsupportedCrs`] of a GeoPackage's EPSG code, in both languages
/// (`geom` errors have their English only).
fn unsupported_crs(e: &UnsupportedCrs) -> Text {
    let code = &e.0;
    Text::new(
        e.to_string(),
        format!(
            "不支持 {code}：本系统只能读写 EPSG:4326、EPSG:4490 和 2000 国家大地坐标系 3 度带高斯–克吕格投影（EPSG:4513–4554）"
        ),
    )
}

/// The features of a GeoPackage's one feature layer.
pub struct GeoPackageLayer {
    /// The table's name.
    pub name: String,
    /// GeoJSON Features in longitude/latitude, in row order.
    pub features: Vec<Value>,
}

/// Read the one feature layer of the GeoPackage at `path`.
pub async fn read_geopackage(path: &Path) -> Result<GeoPackageLayer, GeoPackageError> {
    let mut db = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| {
            failed(text!(
                "not a GeoPackage (SQLite cannot open it: {e})",
                "不是 GeoPackage 文件（SQLite 无法打开：{e}）"
            ))
        })?;
    let layers: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name",
    )
    .fetch_all(&mut db)
    .await
    .map_err(|e| {
        failed(text!(
            "not a GeoPackage (no gpkg_contents: {e})",
            "不是 GeoPackage 文件（缺少 gpkg_contents 表：{e}）"
        ))
    })?;
    let name = match layers.as_slice() {
        [(one,)] => one.clone(),
        [] => {
            return Err(failed(Text::new(
                "the GeoPackage has no feature layer",
                "该 GeoPackage 没有要素图层",
            )));
        }
        many => {
            let n = many.len();
            let names = many
                .iter()
                .map(|(n,)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(failed(text!(
                "the GeoPackage has {n} feature layers ({names}): send one",
                "该 GeoPackage 有 {n} 个要素图层（{names}）：请只保留一个图层"
            )));
        }
    };
    let in_layer = |detail: Text| GeoPackageError {
        layer: Some(name.clone()),
        feature: None,
        field: None,
        detail,
    };
    let (column, organization, code): (String, Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT g.column_name, s.organization, s.organization_coordsys_id
         FROM gpkg_geometry_columns g
         LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id
         WHERE g.table_name = ?1",
    )
    .bind(&name)
    .fetch_one(&mut db)
    .await
    .map_err(|e| in_layer(text!("no geometry column ({e})", "没有几何字段（{e}）")))?;
    let crs = match (organization.as_deref().map(str::to_ascii_uppercase), code) {
        (Some(org), Some(code)) if org == "EPSG" => {
            PlanningCrs::from_epsg(code as u32).map_err(|e| in_layer(unsupported_crs(&e)))?
        }
        _ => {
            return Err(in_layer(Text::new(
                "its coordinate system is not an EPSG code",
                "其坐标系不是 EPSG 代码",
            )));
        }
    };
    let projection = crs.projection();
    // The table name comes from the file: quoted as an identifier (every
    // `"` doubled), so it cannot end the identifier.
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let rows: Vec<SqliteRow> = sqlx::query(AssertSqlSafe(format!("SELECT * FROM {quoted}")))
        .fetch_all(&mut db)
        .await
        .map_err(|e| in_layer(text!("cannot be read ({e})", "无法读取（{e}）")))?;
    let mut features = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let at = |field: Option<&str>, detail: Text| GeoPackageError {
            layer: Some(name.clone()),
            feature: Some(format!("#{n}")),
            field: field.map(str::to_owned),
            detail,
        };
        let mut properties = Map::new();
        let mut geometry = None;
        for (i, col) in row.columns().iter().enumerate() {
            let key = col.name();
            if key.eq_ignore_ascii_case(&column) {
                let blob: Option<Vec<u8>> = row.try_get(i).map_err(|e| {
                    at(
                        Some(key),
                        text!("not a geometry ({e})", "不是几何图形（{e}）"),
                    )
                })?;
                if let Some(blob) = blob {
                    let shape = decode(&blob).map_err(|e| at(Some(key), e))?;
                    let shape = match &projection {
                        Some(p) => shape
                            .try_map_coords(|c| {
                                p.to_lonlat(c.x, c.y)
                                    .map(|q| Coord { x: q.lon, y: q.lat })
                                    .ok_or(())
                            })
                            .map_err(|()| {
                                at(
                                    Some(key),
                                    text!(
                                        "a coordinate cannot be unprojected from {crs}",
                                        "有坐标无法从 {crs} 反算为经纬度"
                                    ),
                                )
                            })?,
                        None => shape,
                    };
                    geometry = Some(geojson::Geometry::from(&shape));
                }
                continue;
            }
            if key.eq_ignore_ascii_case("fid") {
                continue;
            }
            let value = match col.type_info().name().to_ascii_uppercase().as_str() {
                "INTEGER" | "INT" | "BOOLEAN" => {
                    row.try_get::<Option<i64>, _>(i).map(|v| v.map(Value::from))
                }
                "REAL" | "FLOAT" | "DOUBLE" => {
                    row.try_get::<Option<f64>, _>(i).map(|v| v.map(Value::from))
                }
                "NULL" => Ok(None),
                _ => row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.map(Value::from)),
            }
            .map_err(|e| at(Some(key), text!("cannot be read ({e})", "无法读取（{e}）")))?;
            if let Some(value) = value {
                properties.insert(key.to_owned(), value);
            }
        }
        features.push(json!({"type": "Feature", "properties": properties, "geometry": geometry}));
    }
    db.close().await.ok();
    Ok(GeoPackageLayer { name, features })
}

/// A GeoPackage geometry blob's shape: the header (GP, version, flags,
/// SRS id, envelope) skipped, the WKB decoded.
fn decode(blob: &[u8]) -> Result<MultiPolygon<f64>, Text> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err(Text::new(
            "not a GeoPackage geometry (no GP header)",
            "不是 GeoPackage 几何数据（缺少 GP 头）",
        ));
    }
    let flags = blob[3];
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => {
            return Err(text!(
                "unknown envelope kind {other}",
                "未知的外包矩形类型 {other}"
            ));
        }
    };
    let wkb = blob
        .get(8 + envelope..)
        .ok_or_else(|| Text::new("the geometry is cut short", "几何数据不完整"))?;
    from_wkb(wkb).map_err(|e| {
        let zh = match &e {
            WkbError::Malformed(why) => format!("WKB 格式错误：{why}"),
            WkbError::NotPolygonal => {
                "应为 \"Polygon\" 或 \"MultiPolygon\"，实际是其他几何类型".to_owned()
            }
        };
        Text::new(e.to_string(), zh)
    })
}

/// A GeoPackage geometry blob: little-endian header with the XY envelope,
/// then WKB.
fn encode(shape: &MultiPolygon<f64>, srs_id: i32) -> Vec<u8> {
    let mut blob = vec![b'G', b'P', 0, 0b0000_0011];
    blob.extend_from_slice(&srs_id.to_le_bytes());
    let rect = shape.bounding_rect();
    let (min, max) = rect.map_or(((0.0, 0.0), (0.0, 0.0)), |r| {
        ((r.min().x, r.min().y), (r.max().x, r.max().y))
    });
    for v in [min.0, max.0, min.1, max.1] {
        blob.extend_from_slice(&v.to_le_bytes());
    }
    blob.extend_from_slice(&to_wkb(shape));
    blob
}

/// Write `grids` to a new GeoPackage at `path` (which must not exist), in
/// `crs`, as the layer `grids`.
pub async fn write_geopackage(
    path: &Path,
    grids: &[Grid],
    crs: PlanningCrs,
) -> Result<(), GeoPackageError> {
    let mut db = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(writing)?;
    let srs_id = crs.epsg() as i32;
    let mut tx = db.begin().await.map_err(writing)?;
    for statement in [
        "PRAGMA application_id = 1196444487",
        "PRAGMA user_version = 10400",
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
            definition TEXT NOT NULL, description TEXT)",
        "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT UNIQUE, description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
            m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name))",
        "INSERT INTO gpkg_spatial_ref_sys VALUES
            ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
            ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL)",
        "CREATE TABLE grids (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON,
            id TEXT NOT NULL, level INTEGER NOT NULL, parent_id TEXT, name TEXT NOT NULL,
            code TEXT, population INTEGER, leader_name TEXT, leader_phone TEXT)",
    ] {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .map_err(writing)?;
    }
    sqlx::query("INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, NULL)")
        .bind(crs.to_string())
        .bind(srs_id)
        .bind(crs.esri_wkt())
        .execute(&mut *tx)
        .await
        .map_err(writing)?;
    let projection = crs.projection();
    let mut bounds: Option<geo::Rect<f64>> = None;
    for g in grids {
        let shape = match &projection {
            Some(p) => g
                .geometry
                .try_map_coords(|c| {
                    p.from_lonlat(LonLat::from(c))
                        .map(|(x, y)| Coord { x, y })
                        .ok_or(())
                })
                .map_err(|()| {
                    let id = &g.id;
                    failed(text!(
                        "grid {id} cannot be projected to {crs}",
                        "网格 {id} 无法投影到 {crs}"
                    ))
                })?,
            None => g.geometry.clone(),
        };
        if let Some(r) = shape.bounding_rect() {
            bounds = Some(match bounds {
                None => r,
                Some(b) => geo::Rect::new(
                    Coord {
                        x: b.min().x.min(r.min().x),
                        y: b.min().y.min(r.min().y),
                    },
                    Coord {
                        x: b.max().x.max(r.max().x),
                        y: b.max().y.max(r.max().y),
                    },
                ),
            });
        }
        let leader = g.leader();
        sqlx::query(
            "INSERT INTO grids (geom, id, level, parent_id, name, code, population, leader_name,
                 leader_phone) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(encode(&shape, srs_id))
        .bind(g.id.as_str())
        .bind(i64::from(g.level.get()))
        .bind(g.parent_id.as_ref().map(|p| p.as_str()))
        .bind(&g.name)
        .bind(g.code())
        .bind(g.population().map(|p| p as i64))
        .bind(leader.as_ref().map(|l| l.name.clone()))
        .bind(leader.as_ref().map(|l| l.phone.clone()))
        .execute(&mut *tx)
        .await
        .map_err(writing)?;
    }
    let b = bounds
        .unwrap_or_else(|| geo::Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 }));
    sqlx::query(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y,
             srs_id) VALUES ('grids', 'features', 'grids', ?1, ?2, ?3, ?4, ?5)",
    )
    .bind(b.min().x)
    .bind(b.min().y)
    .bind(b.max().x)
    .bind(b.max().y)
    .bind(srs_id)
    .execute(&mut *tx)
    .await
    .map_err(writing)?;
    sqlx::query(
        "INSERT INTO gpkg_geometry_columns VALUES ('grids', 'geom', 'MULTIPOLYGON', ?1, 0, 0)",
    )
    .bind(srs_id)
    .execute(&mut *tx)
    .await
    .map_err(writing)?;
    tx.commit().await.map_err(writing)?;
    db.close().await.map_err(writing)?;
    Ok(())
}
