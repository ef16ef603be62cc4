//! Zipped Shapefiles, as QGIS and ArcGIS write them: one layer (`.shp`,
//! `.shx`, `.dbf`, with its `.prj` and `.cpg`) in a zip archive.
//!
//! Reading: the `.prj` (or a declared system) says the coordinate system
//! ([`PlanningCrs`]), coordinates are unprojected to longitude/latitude,
//! the `.cpg` (or, without one, the `.dbf` header's code page) says the
//! text encoding of the attributes (UTF-8, or GBK as Chinese ArcGIS
//! installations write), and every record becomes a GeoJSON
//! feature read by the import's own parser, so that the rules and the
//! messages are the GeoJSON import's; each issue is named
//! `layer:feature` (`layer`: attribute names, the leader).
//!
//! Writing: the same attributes, UTF-8 with a `.cpg` saying so, the `.prj`
//! as GDAL writes it for the system.

use std::io::{Cursor, Read, Write};

use geo::{Coord, MapCoords, MultiPolygon};
use serde_json::{Map, Value, json};

use crate::geom::{LonLat, PlanningCrs};
use crate::model::{Grid, Text};
use crate::text;

use super::ImportErrors;
use super::layer::grids_from_layer;

/// The leader's attributes in a `.dbf` wangge writes (ten characters at
/// most).
const LEADER_NAME: &str = "leader_nm";
const LEADER_PHONE: &str = "leader_ph";

/// The files of one layer in an archive.
struct Layer {
    name: String,
    shp: Vec<u8>,
    shx: Vec<u8>,
    dbf: Vec<u8>,
    prj: Option<String>,
    cpg: Option<String>,
}

/// The one layer in a zip archive.
fn layer(bytes: &[u8]) -> Result<Layer, ImportErrors> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ImportErrors::document(text!("not a zip archive ({e})", "不是 zip 压缩包（{e}）"))
    })?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| !n.starts_with("__MACOSX/"))
        .map(|n| n.into_owned())
        .collect();
    let stems: Vec<&str> = names
        .iter()
        .filter_map(|n| {
            let lower = n.to_ascii_lowercase();
            lower.ends_with(".shp").then(|| &n[..n.len() - 4])
        })
        .collect();
    let stem = match stems.as_slice() {
        [one] => *one,
        [] => {
            return Err(ImportErrors::document(Text::new(
                "the archive holds no .shp file",
                "压缩包中没有 .shp 文件",
            )));
        }
        many => {
            let (n, layers) = (many.len(), many.join(", "));
            return Err(ImportErrors::document(text!(
                "the archive holds {n} layers ({layers}): send one",
                "压缩包中有 {n} 个图层（{layers}）：请只保留一个图层"
            )));
        }
    };
    let mut part = |ext: &str| -> Result<Option<Vec<u8>>, ImportErrors> {
        let Some(name) = names.iter().find(|n| {
            n.len() == stem.len() + 4
                && n.starts_with(stem)
                && n[stem.len()..].eq_ignore_ascii_case(ext)
        }) else {
            return Ok(None);
        };
        let unreadable = |e: &dyn std::fmt::Display| {
            ImportErrors::document(text!(
                "{name} cannot be read ({e})",
                "无法读取 {name}（{e}）"
            ))
        };
        let mut file = archive.by_name(name).map_err(|e| unreadable(&e))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(|e| unreadable(&e))?;
        Ok(Some(data))
    };
    let layer_name = stem.rsplit('/').next().unwrap_or(stem).to_owned();
    let required = |data: Option<Vec<u8>>, ext: &str| {
        data.ok_or_else(|| {
            ImportErrors::document(text!(
                "layer {layer_name} has no {ext} file",
                "图层 {layer_name} 缺少 {ext} 文件"
            ))
        })
    };
    let shp = required(part(".shp")?, ".shp")?;
    let shx = required(part(".shx")?, ".shx")?;
    let dbf = required(part(".dbf")?, ".dbf")?;
    let text = |d: Vec<u8>| String::from_utf8_lossy(&d).trim().to_owned();
    let prj = part(".prj")?.map(text);
    let cpg = part(".cpg")?.map(text);
    Ok(Layer {
        name: layer_name,
        shp,
        shx,
        dbf,
        prj,
        cpg,
    })
}

/// The code page byte of a `.dbf` header (its "language driver id") for
/// code page 936, simplified Chinese GBK.
const LDID_GBK: u8 = 0x7A;

/// The encoding of a `.dbf`: GBK when its `.cpg` names it (code page 936),
/// or when there is no `.cpg` and the header's code page byte says 936 (as
/// ArcGIS writes it); UTF-8 otherwise.
fn encoding(cpg: Option<&str>, dbf: &[u8]) -> &'static encoding_rs::Encoding {
    match cpg.map(|c| c.trim().to_ascii_uppercase()).as_deref() {
        Some("936" | "CP936" | "GBK" | "GB2312" | "GB18030") => encoding_rs::GBK,
        None if dbf.get(29) == Some(&LDID_GBK) => encoding_rs::GBK,
        _ => encoding_rs::UTF_8,
    }
}

/// Read the grids of a zipped Shapefile; `declared` names the coordinate
/// system when the layer has no `.prj` (and wins over it when given).
pub fn read_zipped_shapefile(
    bytes: &[u8],
    declared: Option<PlanningCrs>,
) -> Result<Vec<Grid>, ImportErrors> {
    let layer = layer(bytes)?;
    let name = layer.name.clone();
    let crs = match (declared, &layer.prj) {
        (Some(crs), _) => crs,
        (None, Some(prj)) => PlanningCrs::from_esri_wkt(prj).map_err(|e| {
            ImportErrors::unreadable(
                &format!("{name}:#layer"),
                Some(".prj"),
                super::unsupported_crs(&e),
            )
        })?,
        (None, None) => {
            return Err(ImportErrors::unreadable(
                &format!("{name}:#layer"),
                Some(".prj"),
                Text::new(
                    "the layer has no .prj: say its coordinate system with crs=EPSG:…",
                    "该图层没有 .prj 文件：请用 crs=EPSG:… 指明其坐标系",
                ),
            ));
        }
    };
    let projection = crs.projection();
    let shapes = shapefile::ShapeReader::with_shx(Cursor::new(layer.shp), Cursor::new(layer.shx))
        .map_err(|e| {
        ImportErrors::document(text!(
            "layer {name}: the .shp cannot be read ({e})",
            "图层 {name}：无法读取 .shp 文件（{e}）"
        ))
    })?;
    let table = shapefile::dbase::ReaderBuilder::new()
        .with_encoding(encoding_rs_encoding(encoding(
            layer.cpg.as_deref(),
            &layer.dbf,
        )))
        .build(Cursor::new(layer.dbf))
        .map_err(|e| {
            ImportErrors::document(text!(
                "layer {name}: the .dbf cannot be read ({e})",
                "图层 {name}：无法读取 .dbf 文件（{e}）"
            ))
        })?;
    let mut reader = shapefile::Reader::new(shapes, table);
    let mut features = Vec::new();
    for (n, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = item.map_err(|e| {
            ImportErrors::unreadable(
                &format!("{name}:#{n}"),
                None,
                text!("the record cannot be read ({e})", "无法读取该记录（{e}）"),
            )
        })?;
        let geometry = match shape {
            shapefile::Shape::Polygon(p) => MultiPolygon::<f64>::try_from(p).ok(),
            _ => None,
        };
        let geometry = match (geometry, &projection) {
            (Some(g), Some(projection)) => Some(unproject(&g, projection).ok_or_else(|| {
                ImportErrors::unreadable(
                    &format!("{name}:#{n}"),
                    Some("geometry"),
                    text!(
                        "a coordinate cannot be unprojected from {crs}",
                        "有坐标无法从 {crs} 反算为经纬度"
                    ),
                )
            })?),
            (g, _) => g,
        };
        features.push(json!({
            "type": "Feature",
            "properties": attributes(record),
            "geometry": geometry.as_ref().map(geojson::Geometry::from),
        }));
    }
    grids_from_layer(&name, features)
}

fn encoding_rs_encoding(
    e: &'static encoding_rs::Encoding,
) -> shapefile::dbase::encoding::EncodingRs {
    shapefile::dbase::encoding::EncodingRs::from(e)
}

fn unproject(
    g: &MultiPolygon<f64>,
    projection: &crate::geom::Projection,
) -> Option<MultiPolygon<f64>> {
    g.try_map_coords(|c| {
        projection
            .to_lonlat(c.x, c.y)
            .map(|p| Coord { x: p.lon, y: p.lat })
            .ok_or(())
    })
    .ok()
}

/// A record's attributes, as the `.dbf` has them.
fn attributes(record: shapefile::dbase::Record) -> Map<String, Value> {
    let mut attributes = Map::new();
    for (field, value) in record {
        let value = match value {
            shapefile::dbase::FieldValue::Character(Some(s))
            | shapefile::dbase::FieldValue::Memo(s) => Value::String(s.trim_end().to_owned()),
            shapefile::dbase::FieldValue::Numeric(Some(n))
            | shapefile::dbase::FieldValue::Double(n) => number(n),
            shapefile::dbase::FieldValue::Float(Some(n)) => number(f64::from(n)),
            shapefile::dbase::FieldValue::Integer(n) => Value::from(n),
            shapefile::dbase::FieldValue::Logical(Some(b)) => Value::Bool(b),
            _ => continue,
        };
        attributes.insert(field, value);
    }
    attributes
}

/// A `.dbf` number: a whole number as an integer (levels, populations).
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// A zipped Shapefile of `grids` in `crs`, its layer named `layer`, its
/// text in UTF-8 with a `.cpg` saying so.
pub fn write_zipped_shapefile(
    grids: &[Grid],
    crs: PlanningCrs,
    layer: &str,
) -> Result<Vec<u8>, String> {
    write_layer(grids, crs, layer, encoding_rs::UTF_8, true)
}

/// [`write_zipped_shapefile`] in `text` encoding, with or without a `.cpg`
/// (the tests write files as older ArcGIS versions do: GBK, no `.cpg`).
fn write_layer(
    grids: &[Grid],
    crs: PlanningCrs,
    layer: &str,
    text: &'static encoding_rs::Encoding,
    with_cpg: bool,
) -> Result<Vec<u8>, String> {
    use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
    let field = |name: &str| FieldName::try_from(name).map_err(|e| format!("{e:?}"));
    let (mut shp, mut shx, mut dbf) = (
        Cursor::new(Vec::new()),
        Cursor::new(Vec::new()),
        Cursor::new(Vec::new()),
    );
    {
        let table = TableWriterBuilder::with_encoding(encoding_rs_encoding(text))
            .add_character_field(field("id")?, 80)
            .add_numeric_field(field("level")?, 2, 0)
            .add_character_field(field("parent_id")?, 80)
            .add_character_field(field("name")?, 254)
            .add_character_field(field("code")?, 80)
            .add_numeric_field(field("population")?, 12, 0)
            .add_character_field(field(LEADER_NAME)?, 80)
            .add_character_field(field(LEADER_PHONE)?, 40)
            .build_with_dest(&mut dbf);
        let mut writer =
            shapefile::Writer::new(shapefile::ShapeWriter::with_shx(&mut shp, &mut shx), table);
        let projection = crs.projection();
        for g in grids {
            let geometry = match &projection {
                Some(p) => g.geometry.try_map_coords(|c| {
                    p.from_lonlat(LonLat::from(c))
                        .map(|(x, y)| Coord { x, y })
                        .ok_or_else(|| format!("grid {} cannot be projected to {crs}", g.id))
                })?,
                None => g.geometry.clone(),
            };
            let shape = shapefile::Polygon::from(geometry);
            let text = |s: Option<&str>| FieldValue::Character(s.map(str::to_owned));
            let leader = g.leader();
            let mut record = Record::default();
            record.insert("id".into(), text(Some(g.id.as_str())));
            record.insert(
                "level".into(),
                FieldValue::Numeric(Some(f64::from(g.level.get()))),
            );
            record.insert(
                "parent_id".into(),
                text(g.parent_id.as_ref().map(|p| p.as_str())),
            );
            record.insert("name".into(), text(Some(&g.name)));
            record.insert("code".into(), text(g.code()));
            record.insert(
                "population".into(),
                FieldValue::Numeric(g.population().map(|p| p as f64)),
            );
            record.insert(
                LEADER_NAME.into(),
                text(leader.as_ref().map(|l| l.name.as_str())),
            );
            record.insert(
                LEADER_PHONE.into(),
                text(leader.as_ref().map(|l| l.phone.as_str())),
            );
            writer
                .write_shape_and_record(&shape, &record)
                .map_err(|e| format!("writing grid {}: {e}", g.id))?;
        }
    }
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut files = vec![
        ("shp", shp.into_inner()),
        ("shx", shx.into_inner()),
        ("dbf", dbf.into_inner()),
        ("prj", crs.esri_wkt().into_bytes()),
    ];
    if with_cpg {
        files.push(("cpg", text.name().as_bytes().to_vec()));
    }
    for (ext, data) in files {
        zip.start_file(format!("{layer}.{ext}"), options)
            .and_then(|()| zip.write_all(&data).map_err(Into::into))
            .map_err(|e| format!("zipping {layer}.{ext}: {e}"))?;
    }
    zip.finish()
        .map(Cursor::into_inner)
        .map_err(|e| format!("zipping {layer}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GridId, Level};

    fn town() -> Grid {
        let ring = vec![
            (105.9, 34.7),
            (106.0, 34.7),
            (106.0, 34.8),
            (105.9, 34.8),
            (105.9, 34.7),
        ];
        let mut properties = Map::new();
        properties.insert("code".into(), json!("620521100"));
        properties.insert("population".into(), json!(18_432));
        properties.insert(
            "leader".into(),
            json!({"name": "王建军", "phone": "13909380001"}),
        );
        Grid {
            id: GridId::from("620521100"),
            level: Level::TOWN,
            parent_id: None,
            name: "永清镇".into(),
            geometry: MultiPolygon::new(vec![geo::Polygon::new(ring.into(), vec![])]),
            properties,
        }
    }

    /// Written in EPSG:4544 and read back: the same grid, coordinates
    /// within a nanodegree (0.1 mm), Chinese text intact.
    #[test]
    fn a_grid_round_trips_through_a_gauss_krueger_shapefile() {
        let crs = PlanningCrs::from_epsg(4544).expect("supported");
        let zipped = write_zipped_shapefile(&[town()], crs, "grids").expect("written");
        let back = read_zipped_shapefile(&zipped, None).expect("read back");
        assert_eq!(back.len(), 1);
        let (a, b) = (&town(), &back[0]);
        assert_eq!((&a.id, a.level, &a.name), (&b.id, b.level, &b.name));
        assert_eq!(b.leader().map(|l| l.name), Some("王建军".to_owned()));
        assert_eq!(b.population(), Some(18_432));
        let (ca, cb): (Vec<Coord<f64>>, Vec<Coord<f64>>) = (
            a.geometry.0[0].exterior().0.clone(),
            b.geometry.0[0].exterior().0.clone(),
        );
        assert_eq!(ca.len(), cb.len());
        // Shapefile outer rings run clockwise: compare as sets of points.
        for c in &ca {
            assert!(
                cb.iter()
                    .any(|d| (c.x - d.x).abs() < 1e-9 && (c.y - d.y).abs() < 1e-9),
                "{c:?} not in {cb:?}"
            );
        }
    }

    /// GBK text with no `.cpg`, the code page in the `.dbf` header alone
    /// (older ArcGIS): the Chinese names come through.
    #[test]
    fn a_gbk_dbf_without_a_cpg_is_read_by_its_code_page() {
        let zipped = write_layer(
            &[town()],
            PlanningCrs::Cgcs2000,
            "towns",
            encoding_rs::GBK,
            false,
        )
        .expect("written");
        let back = read_zipped_shapefile(&zipped, None).expect("read back");
        assert_eq!(back[0].name, "永清镇");
        assert_eq!(back[0].leader().map(|l| l.name), Some("王建军".to_owned()));
    }

    #[test]
    fn a_bad_archive_is_refused_by_name() {
        let refused = read_zipped_shapefile(b"not a zip", None).expect_err("refused");
        assert!(
            refused.to_string().contains("not a zip archive"),
            "{refused}"
        );
        let crs = PlanningCrs::Wgs84;
        let mut no_name = town();
        no_name.name = String::new();
        let zipped = write_zipped_shapefile(&[no_name], crs, "towns").expect("written");
        let refused = read_zipped_shapefile(&zipped, None).expect_err("refused");
        assert_eq!(refused.issues[0].feature, "towns:620521100", "{refused}");
        assert_eq!(refused.issues[0].field.as_deref(), Some("name"));
    }
}
