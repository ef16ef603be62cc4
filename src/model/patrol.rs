//! Patrol routes and patrols: the round a grid's members walk (day patrol
//! 巡查 or night watch 巡更), and each time someone walked it, with the track,
//! the check-ins and which stops were visited or missed (漏巡).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::geom::LonLat;
use crate::model::{GridId, HazardId, IncidentId, RiskClass};

/// A saved route's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RouteId(pub i64);

/// A patrol's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatrolId(pub i64);

/// Which shift a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shift {
    /// Day patrol (白天巡查): inspects the hazards that are due.
    Day,
    /// Night watch (夜间巡更): walks the key points, highest risk first.
    Night,
}

impl Shift {
    /// The name used in the API and the store.
    pub fn name(self) -> &'static str {
        match self {
            Shift::Day => "day",
            Shift::Night => "night",
        }
    }
}

/// How the patrol travels, which sets the speed a duration is estimated at.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TravelMode {
    /// On foot, 4.5 km/h.
    #[default]
    Walk,
    /// By car or motorbike on village roads, 30 km/h.
    Drive,
}

impl TravelMode {
    /// Metres per second.
    pub fn speed_m_per_s(self) -> f64 {
        match self {
            TravelMode::Walk => 4.5 / 3.6,
            TravelMode::Drive => 30.0 / 3.6,
        }
    }
}

/// One stop of a route: a hazard, or a key point with no hazard record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStop {
    /// The hazard, when the stop is one.
    pub hazard: Option<HazardId>,
    /// What it is called.
    pub name: String,
    /// Where, WGS84.
    pub location: LonLat,
    /// The hazard's risk class at planning time.
    pub risk: Option<RiskClass>,
}

/// A route: an ordered round from a start point back to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Its number (0 until saved).
    pub id: RouteId,
    /// What the leader calls it.
    pub name: String,
    /// The grid it was planned for (the leader's grid).
    pub grid: GridId,
    /// Day patrol or night watch.
    pub shift: Shift,
    /// On foot or driving.
    pub mode: TravelMode,
    /// Where it starts and ends.
    pub start: LonLat,
    /// The stops in visiting order.
    pub stops: Vec<RouteStop>,
    /// The way, start → stops → start, along the roads.
    pub path: Vec<LonLat>,
    /// Metres of each leg: start → first stop, …, last stop → start.
    pub legs_m: Vec<f64>,
    /// For each leg, true when it leaves the roads (on foot, across fields
    /// and lanes the road network does not hold; drawn straight). Routes
    /// saved before walkers could leave the roads read back with none
    /// (an empty list: every leg on the roads).
    #[serde(default)]
    pub legs_off_road: Vec<bool>,
    /// Total metres.
    pub length_m: f64,
    /// Estimated seconds: walking or driving time plus time at each stop.
    pub duration_s: f64,
    /// True when measured along roads, false when straight (no network).
    pub on_roads: bool,
    /// Every grid the way passes through, all levels.
    pub grids: Vec<GridId>,
    /// The members it is assigned to.
    pub assignees: Vec<String>,
    /// When saved.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Timestamp,
    /// Bumped by every change.
    pub version: i64,
}

/// A point of a GPS track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    /// Where, WGS84.
    pub at: LonLat,
    /// When, if the device said.
    pub time: Option<Timestamp>,
}

/// A check-in posted during a patrol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    /// Where, WGS84.
    pub at: LonLat,
    /// When.
    pub time: Timestamp,
    /// A photo's URL.
    pub photo_url: Option<String>,
    /// What the member noted.
    pub note: Option<String>,
    /// The incident raised from this check-in, if one was.
    pub incident: Option<IncidentId>,
}

/// Whether a stop was visited on a patrol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopVisit {
    /// The hazard, when the stop is one.
    pub hazard: Option<HazardId>,
    /// When the track or a check-in first came within the radius; `None`
    /// for a missed stop (漏巡) once the patrol is finished.
    pub visited_at: Option<Timestamp>,
    /// The closest the track or a check-in came, metres.
    pub closest_m: Option<f64>,
}

/// Where a patrol stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PatrolStatus {
    /// Under way: check-ins and track points are still coming in.
    Active,
    /// Finished: unvisited stops are missed.
    Finished,
}

/// One walk of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patrol {
    /// Its number.
    pub id: PatrolId,
    /// The route walked.
    pub route: RouteId,
    /// The route's grid (for coverage).
    pub grid: GridId,
    /// The route's shift.
    pub shift: Shift,
    /// Who walked it.
    pub member: String,
    /// Under way or finished.
    pub status: PatrolStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Metres within which a stop counts as visited.
    pub radius_m: f64,
    /// Where the route starts.
    pub start: LonLat,
    /// The route's stops as they were when the patrol started: a route
    /// edited later does not change what this patrol had to visit.
    pub stops: Vec<RouteStop>,
    /// The GPS track, in time order, kept for replay.
    pub track: Vec<TrackPoint>,
    /// Check-ins, in the order posted.
    pub checkins: Vec<CheckIn>,
    /// One per stop, in the order of `stops`.
    pub visits: Vec<StopVisit>,
    /// Length of the track, metres.
    pub track_m: f64,
    /// Bumped by every change.
    pub version: i64,
}

/// What one account uploaded in a period: how many photos, their bytes as
/// uploaded, and when the oldest of them came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhotoUploads {
    /// Photos.
    pub count: u64,
    /// Bytes of the images as uploaded (thumbnails not counted).
    pub bytes: u64,
    /// When the oldest was uploaded (`None` when there is none).
    pub oldest: Option<jiff::Timestamp>,
}

/// A photo to store: the upload as sent, checked to be the image its type
/// says, and a JPEG thumbnail made from it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPhoto {
    /// Its public name (128 random bits in hex): photo numbers are not
    /// guessable addresses.
    pub token: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The image as uploaded.
    pub bytes: Vec<u8>,
    /// A JPEG at most [`THUMBNAIL_PX`] on its longer side.
    pub thumbnail: Vec<u8>,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: Timestamp,
}

/// The longer side of a photo's thumbnail, pixels.
pub const THUMBNAIL_PX: u32 = 320;

/// A stored photo's bytes, as served: the original or the thumbnail.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoBytes {
    /// Its media type.
    pub content_type: String,
    /// The image.
    pub bytes: Vec<u8>,
}
