//! `POST /api/grids/edits`: boundary edits for planners (move vertices of a
//! shared border, split, merge, re-parent, create or delete a sub-area),
//! each planned on the version the planner drew on, refused with every
//! problem drawn as GeoJSON, or (`dry_run=true`) answered with its impact,
//! or applied in one transaction like an import.

use super::access::Caller;
use super::value_schemas::OptionalMoment;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ApiError, ProblemDocument};
use super::extract::{Json, Query};
use super::grids::{ImportSummaryDto, parse_dry_run, plan_then_apply};
use super::params::moment;
use crate::geom::LonLat;
use crate::import::edit::{Edit, NewGrid, Split, Straddling, VertexMove};
use crate::model::{GridId, Level, Text};
use crate::services::grids::ChangeNote;
use crate::state::AppState;
use crate::text;

/// The largest edit body, bytes: room for a sub-area of a few thousand
/// vertices; a vertex move is a few hundred bytes.
const EDIT_BODY_LIMIT: usize = 256 * 1024;

/// The most vertices one edit moves, points one split line has, or grids
/// one merge joins.
const MAX_ITEMS: usize = 2_000;

/// The longest id or name of a new grid, characters.
const MAX_TEXT: usize = 200;

/// The routes of this resource.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/api/grids/edits",
        post(edit).layer(DefaultBodyLimit::max(EDIT_BODY_LIMIT)),
    )
}

/// The OpenAPI description of this resource.
#[derive(OpenApi)]
#[openapi(paths(edit))]
pub(super) struct GridEditsApi;

/// `dry_run` alone (the version is in the body).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EditQuery {
    /// `true`: check the edit and list its impact, change nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// A boundary edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
    /// The grid-set version the edit was drawn on (`GET /healthz`
    /// `grid_version`); another change committed since makes it a 409.
    #[schema(example = 7, minimum = 0)]
    version: i64,
    /// The edit.
    edit: EditOp,
    /// Populations by grid id, for grids the edit writes, instead of the
    /// estimate (a reshaped grid's population is otherwise re-estimated
    /// from the areas it takes from each old grid).
    #[serde(default)]
    #[schema(example = json!({"620521100001001": 1840}))]
    population: BTreeMap<String, u64>,
    /// Why the grids are redrawn, kept with the revision (at most 500
    /// characters).
    #[serde(default)]
    #[schema(example = "城关村与东关村合并")]
    reason: Option<String>,
    /// When the edit takes effect: an RFC 3339 time, or a date (its first
    /// moment in China Standard Time). Absent or not later than now: at
    /// once. Later: scheduled; the edit is drawn on the grids in force on
    /// that date and applied to the current grids, moving open cases, when
    /// it comes.
    #[serde(default)]
    #[schema(value_type = Option<OptionalMoment>, example = "2027-01-01")]
    effective: Option<String>,
}

/// What a split does with a child its line crosses.
#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum StraddlingBody {
    /// Refuse the split, naming the children crossed.
    #[default]
    Refuse,
    /// Cut them along the line too.
    Split,
}

/// One edit, by `op`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum EditOp {
    /// Move vertices of the borders at `level` (one, or a stretch of
    /// border), in every grid of that level and below that has them; a grid
    /// above it sharing one refuses the edit (edit at that level instead).
    MoveVertices {
        /// The level edited (1–5).
        #[schema(example = 4, minimum = 1, maximum = 5)]
        level: i64,
        /// The vertices, `from` exactly as stored.
        moves: Vec<MoveVertexBody>,
    },
    /// Cut `grid` in two along `line`, drawn from its outer border to its
    /// outer border (ends within 0.5 m of it are snapped onto it). Its
    /// children go to the part that holds them; a child the line crosses
    /// refuses the split, or with `straddling: "split"` is cut along the
    /// same line too (its children likewise).
    Split {
        /// The grid cut.
        grid: String,
        /// `[lon, lat]` points, first and last on the border.
        #[schema(value_type = Vec<Vec<f64>>, example = json!([[105.72, 34.75], [105.73, 34.76]]))]
        line: Vec<[f64; 2]>,
        /// The grid left of the line as drawn, then the one right of it
        /// (either may reuse the cut grid's id).
        parts: [NewGridBody; 2],
        /// A child the line crosses: `refuse` (the default) refuses the
        /// split naming it; `split` cuts it along the line too.
        #[serde(default)]
        straddling: StraddlingBody,
        /// With `straddling: "split"`, the parts of a child cut, by its id,
        /// left then right. A child not named keeps its id on the left; its
        /// right part gets the id and name with `-2` (or the next free
        /// number) and its properties but `code` and `population`.
        #[serde(default)]
        #[schema(example = json!({}))]
        child_parts: BTreeMap<String, [NewGridBody; 2]>,
    },
    /// Join adjacent siblings; their children are kept under the result.
    Merge {
        /// The grids joined (two or more, one parent).
        grids: Vec<String>,
        /// The grid they become (its id may be one of theirs).
        into: NewGridBody,
    },
    /// Hand `grid` with its subtree to `parent`, a grid one level up across
    /// its border: the old parent (and its ancestors up to the one both
    /// share) gives up its area, the new one takes it.
    Reparent {
        /// The grid moved.
        grid: String,
        /// Its new parent.
        parent: String,
    },
    /// Add a sub-area (level 5) inside a basic grid: a GeoJSON Feature as
    /// the import reads it (`id`, `level` 5, `parent_id`, `name`).
    CreateSubArea {
        /// The sub-area.
        #[schema(value_type = Object)]
        feature: Value,
    },
    /// Remove a sub-area (level 5); what lay in it falls to its basic grid.
    DeleteSubArea {
        /// The sub-area.
        grid: String,
    },
}

/// A vertex to move: `from` exactly as stored, `to` anywhere.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MoveVertexBody {
    /// `[lon, lat]` of the vertex as stored.
    #[schema(example = json!([105.7254, 34.7501]))]
    from: [f64; 2],
    /// `[lon, lat]` where it goes.
    #[schema(example = json!([105.7262, 34.7498]))]
    to: [f64; 2],
}

/// A grid an edit creates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewGridBody {
    /// Its id: new, or the id of a grid the edit replaces.
    #[schema(example = "620521100001001")]
    id: String,
    /// Its name.
    #[schema(example = "永清镇城关村第一网格")]
    name: String,
    /// `code`, `leader` (`name`, `phone`), `population` and any other
    /// property.
    #[serde(default)]
    #[schema(value_type = Object)]
    properties: Map<String, Value>,
}

fn bad(field: &str, why: Text) -> ApiError {
    let (why, why_zh) = (why.en(), why.zh());
    ApiError::UnprocessableEntity(text!(
        "{field}: {why}; nothing was changed",
        "{field}：{why_zh}，未作任何更改"
    ))
}

fn text(field: &str, value: String) -> Result<String, ApiError> {
    if value.trim().is_empty() || value.chars().count() > MAX_TEXT {
        return Err(bad(
            field,
            text!(
                "must be 1 to {MAX_TEXT} characters, not blank",
                "长度须为 1 至 {MAX_TEXT} 个字符，且不能为空"
            ),
        ));
    }
    Ok(value)
}

/// The longest reason for a change, characters.
pub(super) const MAX_REASON: usize = 500;

/// Who, why and when of a planner's change through the API, after checking
/// the version it names (0 or more), its reason and its effective time.
pub(super) fn change_note(
    caller: &Caller,
    version: i64,
    reason_given: Option<String>,
    effective: Option<&str>,
) -> Result<ChangeNote, ApiError> {
    if version < 0 {
        return Err(bad(
            "version",
            Text::new(
                "must be a grid-set version (0 or more)",
                "必须是网格版本号（不小于 0）",
            ),
        ));
    }
    Ok(ChangeNote {
        actor: caller.login(),
        reason: reason(reason_given)?,
        effective: moment("effective", effective)?,
    })
}

/// A change's reason: trimmed, at most [`MAX_REASON`] characters.
pub(super) fn reason(reason: Option<String>) -> Result<String, ApiError> {
    let reason = reason.unwrap_or_default().trim().to_owned();
    if reason.chars().count() > MAX_REASON {
        return Err(bad(
            "reason",
            text!(
                "at most {MAX_REASON} characters",
                "不能超过 {MAX_REASON} 个字符"
            ),
        ));
    }
    Ok(reason)
}

fn count<T>(field: &str, items: &[T]) -> Result<(), ApiError> {
    if items.len() > MAX_ITEMS {
        let n = items.len();
        return Err(bad(
            field,
            text!(
                "at most {MAX_ITEMS} items, got {n}",
                "不能超过 {MAX_ITEMS} 项，收到 {n} 项"
            ),
        ));
    }
    Ok(())
}

fn point([lon, lat]: [f64; 2]) -> LonLat {
    LonLat::new(lon, lat)
}

impl NewGridBody {
    fn into_new(self, field: &str) -> Result<NewGrid, ApiError> {
        Ok(NewGrid {
            id: GridId::from(text(&format!("{field}.id"), self.id)?.as_str()),
            name: text(&format!("{field}.name"), self.name)?,
            properties: self.properties,
        })
    }
}

impl EditOp {
    fn into_edit(self) -> Result<Edit, ApiError> {
        Ok(match self {
            EditOp::MoveVertices { level, moves } => {
                count("edit.moves", &moves)?;
                Edit::MoveVertices {
                    level: Level::new(level).map_err(|e| bad("edit.level", Text::of(&e)))?,
                    moves: moves
                        .into_iter()
                        .map(|m| VertexMove {
                            from: point(m.from),
                            to: point(m.to),
                        })
                        .collect(),
                }
            }
            EditOp::Split {
                grid,
                line,
                parts,
                straddling,
                child_parts,
            } => {
                count("edit.line", &line)?;
                count("edit.child_parts", &child_parts.keys().collect::<Vec<_>>())?;
                let [left, right] = parts;
                let child_parts = child_parts
                    .into_iter()
                    .map(|(child, [left, right])| {
                        let at = |n: usize| format!("edit.child_parts.{child}[{n}]");
                        Ok((
                            GridId::from(child.as_str()),
                            [left.into_new(&at(0))?, right.into_new(&at(1))?],
                        ))
                    })
                    .collect::<Result<_, ApiError>>()?;
                Edit::Split(Split {
                    grid: GridId::from(grid.as_str()),
                    line: line.into_iter().map(point).collect(),
                    parts: [
                        left.into_new("edit.parts[0]")?,
                        right.into_new("edit.parts[1]")?,
                    ],
                    straddling: match straddling {
                        StraddlingBody::Refuse => Straddling::Refuse,
                        StraddlingBody::Split => Straddling::Split,
                    },
                    child_parts,
                })
            }
            EditOp::Merge { grids, into } => {
                count("edit.grids", &grids)?;
                Edit::Merge {
                    grids: grids.iter().map(|g| GridId::from(g.as_str())).collect(),
                    into: into.into_new("edit.into")?,
                }
            }
            EditOp::Reparent { grid, parent } => Edit::Reparent {
                grid: GridId::from(grid.as_str()),
                parent: GridId::from(parent.as_str()),
            },
            EditOp::CreateSubArea { feature } => {
                // Read by the import's own parser, so a bad feature is
                // refused naming the property, exactly as an import would.
                let document = serde_json::json!({
                    "type": "FeatureCollection",
                    "features": [feature],
                });
                let mut grids =
                    crate::import::parse_feature_collection(document.to_string().as_bytes())
                        .map_err(ApiError::ImportRefused)?;
                Edit::CreateSubArea(
                    grids
                        .pop()
                        .ok_or_else(|| bad("edit.feature", Text::new("missing", "缺少此项")))?,
                )
            }
            EditOp::DeleteSubArea { grid } => Edit::DeleteSubArea(GridId::from(grid.as_str())),
        })
    }
}

/// Edit grid boundaries so that every level stays a partition of its
/// parent: move vertices of a shared border (every grid sharing them moves
/// with it), split a grid along a line, merge siblings, hand a grid to a
/// neighbouring parent, create or delete a sub-area. Populations of
/// reshaped grids are re-estimated from the areas moved unless given.
/// Planned like an import (the same checks, the impact on open incidents,
/// hazards and routes, stranding), refused if it would open a gap in a
/// parent's cover or leave a sliver under 100 m², and applied in one
/// transaction that moves what lies in the changed grids.
#[utoipa::path(
    post,
    path = "/api/grids/edits",
    tag = "grids",
    params(EditQuery),
    request_body(content = EditBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Edited (or, with `dry_run=true`, what editing would do)",
            body = ImportSummaryDto),
        (status = 400, description = "`dry_run` or `effective` is malformed",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Another grid change committed after `version` \
            (`current_version` says which is stored now), or a revision scheduled later \
            changes the same grids",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 256 KiB",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Refused, nothing changed: the body is malformed, the \
            edit cannot be drawn (no such vertex or grid, a border of the level above, a \
            split line off the border or crossing a child, siblings that do not touch, …), \
            the result breaks a rule (`issues`), would leave a parent partly uncovered \
            (`gaps`), a sliver (`slivers`) or something outside every grid (`stranded`)",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 500, description = "The store failed the write; nothing was changed",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn edit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<EditQuery>,
    Json(body): Json<EditBody>,
) -> Result<axum::Json<ImportSummaryDto>, ApiError> {
    let dry_run = parse_dry_run(query.dry_run.as_deref())?;
    let note = change_note(
        &caller,
        body.version,
        body.reason,
        body.effective.as_deref(),
    )?;
    if body.population.len() > MAX_ITEMS {
        return Err(bad(
            "population",
            text!("at most {MAX_ITEMS} grids", "不能超过 {MAX_ITEMS} 个网格"),
        ));
    }
    let edit = body.edit.into_edit()?;
    let population = body
        .population
        .into_iter()
        .map(|(id, n)| (GridId::from(id.as_str()), n))
        .collect();
    let plan = state
        .grids()
        .plan_edit(edit, population, Some(body.version), note)
        .await?;
    plan_then_apply(&state, plan, dry_run).await
}
