//! The coordinate systems Chinese planning data comes in, and the
//! conversion of their coordinates to and from wangge's longitude/latitude.
//!
//! - **EPSG:4326** (WGS84) and **EPSG:4490** (CGCS2000) longitude/latitude:
//!   taken as one, as everywhere in wangge (they agree within centimetres).
//! - **CGCS2000 3-degree Gauss–Krüger**: transverse Mercator on the
//!   CGCS2000 ellipsoid (GRS80's axes), scale 1 on a central meridian every
//!   3° from 75°E to 135°E, 500 km false easting; EPSG:4534–4554 write
//!   eastings without the zone (`CGCS2000 / 3-degree Gauss-Kruger CM 105E`
//!   is 4544, where Qingshui lies), EPSG:4513–4533 with the zone number in
//!   front (zone 35, the same meridian, is 4523: 35 500 000 m false easting).
//!
//! Projections are computed by `proj4rs` (a port of PROJ, accurate to well
//! under a millimetre); a Shapefile's `.prj` (ESRI WKT, as QGIS and ArcGIS
//! write it) is read for its datum and projection parameters, and written
//! back the same way.

use std::fmt;

use proj4rs::proj::Proj;

use super::LonLat;

/// A coordinate system planning files are read and written in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlanningCrs {
    /// Longitude/latitude, WGS84 (EPSG:4326).
    Wgs84,
    /// Longitude/latitude, CGCS2000 (EPSG:4490).
    Cgcs2000,
    /// CGCS2000 3-degree Gauss–Krüger, by central meridian (°E), with or
    /// without the zone number in the easting.
    GaussKruger3 {
        /// Central meridian, degrees east (75 to 135, a multiple of 3).
        central_meridian: u16,
        /// Eastings carry the zone number (EPSG:4513–4533).
        zone_prefix: bool,
    },
}

/// A coordinate system wangge cannot read or write.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{0}: wangge reads and writes EPSG:4326, EPSG:4490 and the CGCS2000 3-degree \
     Gauss–Krüger projections (EPSG:4513–4554)"
)]
pub struct UnsupportedCrs(pub String);

impl PlanningCrs {
    /// The system with this EPSG code.
    pub fn from_epsg(code: u32) -> Result<PlanningCrs, UnsupportedCrs> {
        match code {
            4326 => Ok(PlanningCrs::Wgs84),
            4490 => Ok(PlanningCrs::Cgcs2000),
            4513..=4533 => Ok(PlanningCrs::GaussKruger3 {
                central_meridian: (code - 4513 + 25) as u16 * 3,
                zone_prefix: true,
            }),
            4534..=4554 => Ok(PlanningCrs::GaussKruger3 {
                central_meridian: 75 + (code - 4534) as u16 * 3,
                zone_prefix: false,
            }),
            _ => Err(UnsupportedCrs(format!("EPSG:{code}"))),
        }
    }

    /// The system a parameter names: `EPSG:4544`, `4544`, or the OGC URI
    /// `http://www.opengis.net/def/crs/EPSG/0/4544`.
    pub fn parse(text: &str) -> Result<PlanningCrs, UnsupportedCrs> {
        let t = text.trim();
        let code = t
            .rsplit(['/', ':'])
            .next()
            .and_then(|c| c.parse::<u32>().ok())
            .ok_or_else(|| UnsupportedCrs(format!("{t:?} is not an EPSG code")))?;
        PlanningCrs::from_epsg(code)
    }

    /// Its EPSG code.
    pub fn epsg(self) -> u32 {
        match self {
            PlanningCrs::Wgs84 => 4326,
            PlanningCrs::Cgcs2000 => 4490,
            PlanningCrs::GaussKruger3 {
                central_meridian,
                zone_prefix: true,
            } => 4513 + u32::from(central_meridian / 3) - 25,
            PlanningCrs::GaussKruger3 {
                central_meridian,
                zone_prefix: false,
            } => 4534 + u32::from(central_meridian - 75) / 3,
        }
    }

    /// True for the longitude/latitude systems.
    pub fn is_geographic(self) -> bool {
        !matches!(self, PlanningCrs::GaussKruger3 { .. })
    }

    /// The system an ESRI WKT (a Shapefile's `.prj`) describes.
    pub fn from_esri_wkt(wkt: &str) -> Result<PlanningCrs, UnsupportedCrs> {
        let upper = wkt.to_ascii_uppercase();
        let china = upper.contains("CHINA_2000") || upper.contains("CGCS2000");
        let unsupported = || {
            let name = wkt
                .split('"')
                .nth(1)
                .unwrap_or("an unnamed coordinate system");
            UnsupportedCrs(format!("the .prj describes {name}"))
        };
        if upper.trim_start().starts_with("GEOGCS") {
            return if china {
                Ok(PlanningCrs::Cgcs2000)
            } else if upper.contains("WGS_1984") || upper.contains("WGS 84") {
                Ok(PlanningCrs::Wgs84)
            } else {
                Err(unsupported())
            };
        }
        let transverse = upper.contains("GAUSS_KRUGER") || upper.contains("TRANSVERSE_MERCATOR");
        let parameter = |name: &str| -> Option<f64> {
            let at = upper.find(&format!("PARAMETER[\"{name}\""))?;
            let rest = &upper[at..];
            let value = rest.split(',').nth(1)?.split(']').next()?;
            value.trim().parse().ok()
        };
        let (Some(cm), Some(fe)) = (parameter("CENTRAL_MERIDIAN"), parameter("FALSE_EASTING"))
        else {
            return Err(unsupported());
        };
        let plain = [parameter("FALSE_NORTHING"), parameter("LATITUDE_OF_ORIGIN")]
            .iter()
            .all(|v| v.is_none_or(|v| v == 0.0))
            && parameter("SCALE_FACTOR").is_none_or(|k| k == 1.0);
        let meridian = (cm / 3.0).round() * 3.0;
        if !china || !transverse || !plain || meridian != cm || !(75.0..=135.0).contains(&cm) {
            return Err(unsupported());
        }
        let zone_prefix = if fe == 500_000.0 {
            false
        } else if fe == (cm / 3.0) * 1_000_000.0 + 500_000.0 {
            true
        } else {
            return Err(unsupported());
        };
        Ok(PlanningCrs::GaussKruger3 {
            central_meridian: cm as u16,
            zone_prefix,
        })
    }

    /// The ESRI WKT of the system, for a Shapefile's `.prj` (as GDAL
    /// writes it for the EPSG code).
    pub fn esri_wkt(self) -> String {
        const GEOGCS: &str = "GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",\
            DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],\
            PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";
        match self {
            PlanningCrs::Wgs84 => "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",\
                SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],\
                UNIT[\"Degree\",0.0174532925199433]]"
                .to_owned(),
            PlanningCrs::Cgcs2000 => GEOGCS.to_owned(),
            PlanningCrs::GaussKruger3 {
                central_meridian,
                zone_prefix,
            } => {
                let name = if zone_prefix {
                    format!("CGCS2000_3_Degree_GK_Zone_{}", central_meridian / 3)
                } else {
                    format!("CGCS2000_3_Degree_GK_CM_{central_meridian}E")
                };
                format!(
                    "PROJCS[\"{name}\",{GEOGCS},PROJECTION[\"Gauss_Kruger\"],\
                     PARAMETER[\"False_Easting\",{:.1}],PARAMETER[\"False_Northing\",0.0],\
                     PARAMETER[\"Central_Meridian\",{central_meridian}.0],\
                     PARAMETER[\"Scale_Factor\",1.0],PARAMETER[\"Latitude_Of_Origin\",0.0],\
                     UNIT[\"Meter\",1.0]]",
                    self.false_easting()
                )
            }
        }
    }

    fn false_easting(self) -> f64 {
        match self {
            PlanningCrs::GaussKruger3 {
                central_meridian,
                zone_prefix: true,
            } => f64::from(central_meridian / 3) * 1_000_000.0 + 500_000.0,
            _ => 500_000.0,
        }
    }

    /// The projection between this system and longitude/latitude, if it
    /// is not longitude/latitude itself.
    pub fn projection(self) -> Option<Projection> {
        let PlanningCrs::GaussKruger3 {
            central_meridian, ..
        } = self
        else {
            return None;
        };
        let tmerc = format!(
            "+proj=tmerc +lat_0=0 +lon_0={central_meridian} +k=1 +x_0={} +y_0=0 +ellps=GRS80 \
             +units=m +no_defs",
            self.false_easting()
        );
        // Both strings are fixed and valid: proj4rs cannot refuse them.
        Some(Projection {
            projected: Proj::from_proj_string(&tmerc).expect("a valid tmerc definition"),
            geographic: Proj::from_proj_string("+proj=longlat +ellps=GRS80 +no_defs")
                .expect("a valid longlat definition"),
        })
    }
}

impl fmt::Display for PlanningCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EPSG:{}", self.epsg())
    }
}

/// A transverse Mercator projection and its geographic system.
pub struct Projection {
    projected: Proj,
    geographic: Proj,
}

impl Projection {
    /// Easting and northing (metres) to longitude/latitude, or `None` when
    /// the point cannot be unprojected.
    pub fn to_lonlat(&self, x: f64, y: f64) -> Option<LonLat> {
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(&self.projected, &self.geographic, &mut p).ok()?;
        let lonlat = LonLat::new(p.0.to_degrees(), p.1.to_degrees());
        lonlat.is_valid().then_some(lonlat)
    }

    /// Longitude/latitude to easting and northing, metres.
    pub fn from_lonlat(&self, p: LonLat) -> Option<(f64, f64)> {
        let mut q = (p.lon.to_radians(), p.lat.to_radians(), 0.0);
        proj4rs::transform::transform(&self.geographic, &self.projected, &mut q).ok()?;
        (q.0.is_finite() && q.1.is_finite()).then_some((q.0, q.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GDAL 3.6 (PROJ 9.1), `gdaltransform -s_srs EPSG:4326 -t_srs EPSG:4544`
    /// and `EPSG:4523`, for two points of Qingshui county.
    const REFERENCE: [((f64, f64), (f64, f64)); 2] = [
        ((106.1, 34.75), (600_723.629_481_868, 3_847_409.486_719_3)),
        ((105.3, 35.2), (527_319.689_861_414, 3_896_822.611_290_07)),
    ];

    #[test]
    fn gauss_krueger_agrees_with_proj_to_the_millimetre() {
        for (code, offset) in [(4544, 0.0), (4523, 35_000_000.0)] {
            let crs = PlanningCrs::from_epsg(code).expect("supported");
            assert_eq!(crs.epsg(), code);
            let projection = crs.projection().expect("projected");
            for ((lon, lat), (x, y)) in REFERENCE {
                let (px, py) = projection
                    .from_lonlat(LonLat::new(lon, lat))
                    .expect("projects");
                assert!(
                    (px - x - offset).abs() < 1e-3 && (py - y).abs() < 1e-3,
                    "{code}: {px} {py}"
                );
                let back = projection.to_lonlat(px, py).expect("unprojects");
                assert!(
                    (back.lon - lon).abs() < 1e-9 && (back.lat - lat).abs() < 1e-9,
                    "{back:?}"
                );
            }
        }
    }

    #[test]
    fn every_code_in_the_ranges_round_trips_and_others_are_refused() {
        for code in (4513..=4554).chain([4326, 4490]) {
            let crs = PlanningCrs::from_epsg(code).expect("supported");
            assert_eq!(crs.epsg(), code);
            assert_eq!(PlanningCrs::from_esri_wkt(&crs.esri_wkt()), Ok(crs));
            assert_eq!(PlanningCrs::parse(&format!("EPSG:{code}")), Ok(crs));
        }
        assert!(PlanningCrs::from_epsg(3857).is_err());
        assert!(PlanningCrs::parse("mercator").is_err());
    }

    /// The `.prj` GDAL writes for EPSG:4544, as QGIS saves it.
    #[test]
    fn a_qgis_prj_is_read() {
        let prj = r#"PROJCS["CGCS2000_3_Degree_GK_CM_105E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(
            PlanningCrs::from_esri_wkt(prj),
            Ok(PlanningCrs::GaussKruger3 {
                central_meridian: 105,
                zone_prefix: false
            })
        );
        let utm = prj
            .replace("D_China_2000", "D_WGS_1984")
            .replace("CGCS2000_3_Degree_GK_CM_105E", "WGS_1984_UTM_Zone_48N");
        let utm = utm
            .replace("CGCS2000\"", "WGS_1984\"")
            .replace("China_Geodetic_Coordinate_System_2000", "WGS_1984");
        let refused = PlanningCrs::from_esri_wkt(&utm).expect_err("not CGCS2000");
        assert!(
            refused.to_string().contains("WGS_1984_UTM_Zone_48N"),
            "{refused}"
        );
    }
}
