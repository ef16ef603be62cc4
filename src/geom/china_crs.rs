//! The coordinate systems phones in China report, and their conversion to
//! WGS84 before a point is located.
//!
//! - **WGS84 / CGCS2000** (EPSG:4326 / EPSG:4490): GPS and official
//!   surveying; the two agree within centimetres and are taken as one.
//! - **GCJ-02**: the obfuscated system every map licensed in China must use
//!   (Amap/Gaode, Tencent, WeChat location sharing); a smooth, non-linear
//!   offset of hundreds of metres from WGS84 inside mainland China, none
//!   outside it.
//! - **BD-09**: Baidu's further offset of GCJ-02.
//!
//! The forward formulas are public; the inverses have no closed form. Both
//! come from the `coordtransform` crate, whose inverses refine the classic
//! one-step approximation (metres off) until the residual is far below a
//! millimetre; the tests pin that against published reference pairs.

use serde::{Deserialize, Serialize};

use super::LonLat;

/// The coordinate system a reported point is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum InputCrs {
    /// WGS84 or CGCS2000 (the default): no conversion.
    #[default]
    Wgs84,
    /// GCJ-02 ("Mars coordinates"): Amap, Tencent, WeChat.
    Gcj02,
    /// BD-09: Baidu.
    Bd09,
}

/// A `crs` value that names no supported system.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown crs {0:?}: use wgs84 (also cgcs2000, EPSG:4326, EPSG:4490), gcj02 (Amap, Tencent, \
     WeChat) or bd09 (Baidu)"
)]
pub struct UnknownCrs(pub String);

impl InputCrs {
    /// Every system, in the order documentation lists them.
    pub const ALL: [InputCrs; 3] = [InputCrs::Wgs84, InputCrs::Gcj02, InputCrs::Bd09];

    /// The canonical name, as stored and as the API writes it.
    pub fn name(self) -> &'static str {
        match self {
            InputCrs::Wgs84 => "wgs84",
            InputCrs::Gcj02 => "gcj02",
            InputCrs::Bd09 => "bd09",
        }
    }

    /// Read a system's name as clients write it: case, `-` and `_` do not
    /// matter, and the EPSG codes and CGCS2000 name WGS84.
    pub fn parse(s: &str) -> Result<InputCrs, UnknownCrs> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "wgs84" | "cgcs2000" | "epsg:4326" | "epsg:4490" | "crs84" => Ok(InputCrs::Wgs84),
            "gcj02" | "gcj" => Ok(InputCrs::Gcj02),
            "bd09" | "bd09ll" | "baidu" => Ok(InputCrs::Bd09),
            _ => Err(UnknownCrs(s.to_owned())),
        }
    }

    /// The point in WGS84. Points outside mainland China are unchanged for
    /// GCJ-02 (it has no offset there); BD-09 always removes Baidu's own
    /// offset first.
    pub fn to_wgs84(self, p: LonLat) -> LonLat {
        let (lon, lat) = match self {
            InputCrs::Wgs84 => (p.lon, p.lat),
            InputCrs::Gcj02 => coordtransform::gcj02_to_wgs84(p.lon, p.lat),
            InputCrs::Bd09 => coordtransform::bd09_to_wgs84(p.lon, p.lat),
        };
        LonLat::new(lon, lat)
    }

    /// A WGS84 point written in this system (the forward direction, for
    /// tests and for answering clients in their own system).
    pub fn from_wgs84(self, p: LonLat) -> LonLat {
        let (lon, lat) = match self {
            InputCrs::Wgs84 => (p.lon, p.lat),
            InputCrs::Gcj02 => coordtransform::wgs84_to_gcj02(p.lon, p.lat),
            InputCrs::Bd09 => coordtransform::wgs84_to_bd09(p.lon, p.lat),
        };
        LonLat::new(lon, lat)
    }
}

impl TryFrom<String> for InputCrs {
    type Error = UnknownCrs;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        InputCrs::parse(&s)
    }
}

impl From<InputCrs> for &'static str {
    fn from(crs: InputCrs) -> &'static str {
        crs.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::metres_between;

    /// Published WGS84 → GCJ-02 pairs (latitude, longitude as usually
    /// printed), used across the GCJ-02 implementations of many languages
    /// ("eviltransform" test vectors): Shanghai, Shenzhen, Beijing.
    const WGS_GCJ: [((f64, f64), (f64, f64)); 3] = [
        (
            (31.1774276, 121.5272106),
            (31.17530398364597, 121.531541859215),
        ),
        (
            (22.543847, 113.912316),
            (22.540796131694766, 113.9171764808363),
        ),
        (
            (39.911954, 116.377817),
            (39.91334545536069, 116.38404722455657),
        ),
    ];

    fn lonlat((lat, lon): (f64, f64)) -> LonLat {
        LonLat::new(lon, lat)
    }

    #[test]
    fn gcj02_matches_the_published_pairs_both_ways() {
        for (wgs, gcj) in WGS_GCJ {
            let (wgs, gcj) = (lonlat(wgs), lonlat(gcj));
            let forward = InputCrs::Gcj02.from_wgs84(wgs);
            assert!(
                metres_between(forward, gcj) < 0.001,
                "{wgs:?} → {forward:?}, published {gcj:?}"
            );
            // The published offset is hundreds of metres: the conversion
            // matters.
            assert!(metres_between(wgs, gcj) > 100.0);
            let back = InputCrs::Gcj02.to_wgs84(gcj);
            assert!(
                metres_between(back, wgs) < 0.01,
                "{gcj:?} → {back:?}, published {wgs:?}: {} m",
                metres_between(back, wgs)
            );
        }
    }

    /// A published GCJ-02 → BD-09 pair (the Shanghai point above), and the
    /// way back to WGS84 through both offsets.
    #[test]
    fn bd09_matches_the_published_pair() {
        let gcj = LonLat::new(121.531541859215, 31.17530398364597);
        let bd = LonLat::new(121.53801568643858, 31.181328606874466);
        let wgs = LonLat::new(121.5272106, 31.1774276);
        let forward = InputCrs::Bd09.from_wgs84(wgs);
        assert!(metres_between(forward, bd) < 0.01, "{forward:?}");
        let back = InputCrs::Bd09.to_wgs84(bd);
        assert!(metres_between(back, wgs) < 0.01, "{back:?}");
        assert!(metres_between(gcj, bd) > 500.0, "Baidu adds its own offset");
    }

    /// Over Qingshui County, converting to a system and back lands within a
    /// millimetre, so a point reported in GCJ-02 is located where it is.
    #[test]
    fn round_trips_over_the_county_are_sub_millimetre() {
        for i in 0..=20 {
            for j in 0..=20 {
                let p = LonLat::new(105.85 + 0.03 * f64::from(i), 34.50 + 0.0225 * f64::from(j));
                for crs in InputCrs::ALL {
                    let back = crs.to_wgs84(crs.from_wgs84(p));
                    assert!(metres_between(back, p) < 0.001, "{crs:?} {p:?} → {back:?}");
                }
            }
        }
    }

    /// Outside mainland China GCJ-02 is WGS84.
    #[test]
    fn gcj02_has_no_offset_abroad() {
        let tokyo = LonLat::new(139.6917, 35.6895);
        assert_eq!(InputCrs::Gcj02.to_wgs84(tokyo), tokyo);
        assert_eq!(InputCrs::Gcj02.from_wgs84(tokyo), tokyo);
    }

    #[test]
    fn names_are_read_as_clients_write_them() {
        for (s, crs) in [
            ("wgs84", InputCrs::Wgs84),
            ("WGS-84", InputCrs::Wgs84),
            ("CGCS2000", InputCrs::Wgs84),
            ("EPSG:4490", InputCrs::Wgs84),
            ("gcj02", InputCrs::Gcj02),
            ("GCJ-02", InputCrs::Gcj02),
            ("bd09", InputCrs::Bd09),
            ("BD-09", InputCrs::Bd09),
        ] {
            assert_eq!(InputCrs::parse(s), Ok(crs), "{s}");
        }
        for crs in InputCrs::ALL {
            assert_eq!(InputCrs::parse(crs.name()), Ok(crs));
        }
        assert!(InputCrs::parse("epsg:3857").is_err());
        assert!(InputCrs::parse("").is_err());
    }
}
