//! The one HTTP error type, [`ApiError`], rendered as an RFC 9457 problem
//! document (`application/problem+json`): `type`, `title`, `status`, `detail`,
//! plus extension members where they help a client act (`parameter` names the
//! query parameter or body member at fault, `issues` lists every reason an
//! import was refused).
//!
//! Server errors (5xx) are logged here, once, with their full source chain,
//! and the client sees only a generic detail: internal text (SQL, paths,
//! driver messages) never leaves the process.
//!
//! axum's own rejections (malformed JSON, wrong content type, a body over the
//! limit, a malformed query string) convert into `ApiError` too, through the
//! extractors in [`super::extract`], so that every error the API produces has
//! the same shape.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::import::{ImportErrors, ImportIssue};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer of the API. Each variant names the status it is sent with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a query parameter or a body member is missing or malformed.
    #[error("{detail}")]
    BadParameter {
        /// The parameter at fault, e.g. `lat` or `points[3]`.
        parameter: String,
        /// A sentence naming the parameter, what is wrong with it and what
        /// is accepted.
        detail: String,
    },
    /// 400: the request cannot be read at all (e.g. a malformed query string).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no credential, or one that is unknown, expired or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller's role (or a missing CSRF token) does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(String),
    /// 429: too many attempts; `Retry-After` says when to try again.
    #[error("{detail}")]
    TooManyRequests {
        /// The sentence.
        detail: String,
        /// Seconds until a new attempt may succeed.
        retry_after_secs: u64,
    },
    /// 409: the change conflicts with the resource's current state (an
    /// action its process does not allow now, or a stale version).
    #[error("{0}")]
    Conflict(String),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body (or the batch in it) is larger than this server accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body has a content type this endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the body is well-formed JSON but not the expected document.
    #[error("{0}")]
    UnprocessableEntity(String),
    /// 422: an import broke the grid rules; every issue is listed and the
    /// store is unchanged.
    #[error(transparent)]
    ImportRefused(ImportErrors),
    /// 422: a boundary edit's result broke the grid rules; every issue is
    /// listed with where it is, and the store is unchanged.
    #[error("{0}")]
    EditRefused(ImportErrors, Vec<Option<geo::MultiPolygon<f64>>>),
    /// A grid change that would leave open incidents, hazards or routes
    /// outside every grid (422), listed.
    #[error("{0}")]
    GridChangeStranded(String, Box<crate::services::grids::Impact>),
    /// A boundary edit that would open gaps in a parent's cover (422), listed.
    #[error("{0}")]
    GridChangeGaps(String, Vec<crate::import::edit::Gap>),
    /// A boundary edit that would leave slivers (422), listed.
    #[error("{0}")]
    GridChangeSlivers(String, Vec<crate::import::edit::Sliver>),
    /// A grid change planned on a version that is no longer current (409).
    #[error("{detail}")]
    GridChangeStale {
        /// The sentence.
        detail: String,
        /// The version stored now.
        current: i64,
    },
    /// 500: something failed inside the server. `context` says what was
    /// being done (logged, not sent); `source` is logged with its chain.
    #[error("{context}")]
    Internal {
        /// What was being done, e.g. "writing imported grids".
        context: &'static str,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// 503: a dependency (the store) does not answer.
    #[error("{context}")]
    ServiceUnavailable {
        /// What was being checked (logged, not sent).
        context: &'static str,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ApiError {
    /// A 400 naming the parameter at fault.
    pub fn bad_parameter(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::BadParameter {
            parameter: parameter.into(),
            detail: detail.into(),
        }
    }

    /// A 500 with what was being done and why it failed (logged, not sent).
    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ApiError::Internal {
            context,
            source: source.into(),
        }
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict(_) | ApiError::GridChangeStale { .. } => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnprocessableEntity(_)
            | ApiError::ImportRefused(_)
            | ApiError::EditRefused(..)
            | ApiError::GridChangeStranded(..)
            | ApiError::GridChangeGaps(..)
            | ApiError::GridChangeSlivers(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::ServiceUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The problem document for this error. Server errors get a fixed detail.
    fn problem(&self) -> ProblemDocument {
        let status = self.status();
        let mut doc = ProblemDocument {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            parameter: None,
            issues: None,
            stranded: None,
            gaps: None,
            slivers: None,
            current_version: None,
        };
        match self {
            ApiError::BadParameter { parameter, .. } => {
                doc.problem_type = "urn:wangge:problem:invalid-parameter";
                doc.title = "Invalid parameter".into();
                doc.parameter = Some(parameter.clone());
            }
            ApiError::ImportRefused(errors) => {
                doc.problem_type = "urn:wangge:problem:import-refused";
                doc.title = "Import refused".into();
                doc.detail = format!(
                    "the grids were not imported ({} issue{}); the stored grids are unchanged",
                    errors.issues.len(),
                    if errors.issues.len() == 1 { "" } else { "s" }
                );
                doc.issues = Some(errors.issues.iter().map(IssueDto::from).collect());
            }
            ApiError::EditRefused(errors, parts) => {
                doc.problem_type = "urn:wangge:problem:import-refused";
                doc.title = "Edit refused".into();
                doc.detail = format!(
                    "the edit breaks the grid rules ({} issue{}); the stored grids are unchanged",
                    errors.issues.len(),
                    if errors.issues.len() == 1 { "" } else { "s" }
                );
                doc.issues = Some(
                    errors
                        .issues
                        .iter()
                        .zip(parts)
                        .map(|(issue, part)| IssueDto {
                            geometry: part.as_ref().map(geojson::Geometry::from),
                            ..IssueDto::from(issue)
                        })
                        .collect(),
                );
            }
            ApiError::GridChangeStranded(_, stranded) => {
                doc.problem_type = "urn:wangge:problem:grid-change-strands";
                doc.title = "Grid change refused".into();
                doc.stranded = serde_json::to_value(stranded).ok();
            }
            ApiError::GridChangeGaps(_, gaps) => {
                doc.problem_type = "urn:wangge:problem:grid-change-gaps";
                doc.title = "Grid change refused".into();
                doc.gaps = Some(
                    gaps.iter()
                        .map(|g| {
                            serde_json::json!({
                                "parent": g.parent,
                                "opened_m2": g.opened_m2,
                                "uncovered": geojson::Geometry::from(&g.uncovered),
                            })
                        })
                        .collect(),
                );
            }
            ApiError::GridChangeSlivers(_, slivers) => {
                doc.problem_type = "urn:wangge:problem:grid-change-slivers";
                doc.title = "Grid change refused".into();
                doc.slivers = Some(
                    slivers
                        .iter()
                        .map(|s| {
                            serde_json::json!({
                                "grid": s.grid,
                                "area_m2": s.area_m2,
                                "part": geojson::Geometry::from(&s.part),
                            })
                        })
                        .collect(),
                );
            }
            ApiError::GridChangeStale { current, .. } => {
                doc.problem_type = "urn:wangge:problem:grid-change-stale";
                doc.title = "Grids changed meanwhile".into();
                doc.current_version = Some(*current);
            }
            ApiError::MethodNotAllowed => {
                doc.detail = "this path does not answer to this method".into();
            }
            ApiError::Internal { .. } => {
                doc.detail = "the server failed to answer; the failure is logged".into();
            }
            ApiError::ServiceUnavailable { .. } => {
                doc.detail = "the grid store is not answering".into();
            }
            _ => {}
        }
        doc
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal { context, source }
            | ApiError::ServiceUnavailable { context, source } => {
                tracing::error!(
                    status = self.status().as_u16(),
                    error = %ErrorChain(source.as_ref()),
                    "{context}"
                );
            }
            _ => {}
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.problem())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, super::access::CHALLENGE);
        }
        response
    }
}

/// Displays an error followed by each of its sources, `: `-separated.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// An RFC 9457 problem document, as every error of the API is sent.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub(super) struct ProblemDocument {
    /// A URI naming the kind of problem: `about:blank` when the status says
    /// it all, `urn:wangge:problem:…` for the kinds below.
    #[serde(rename = "type")]
    #[schema(example = "urn:wangge:problem:invalid-parameter")]
    problem_type: &'static str,
    /// Short summary of the kind of problem.
    #[schema(example = "Invalid parameter")]
    title: String,
    /// The HTTP status, repeated.
    #[schema(example = 400)]
    status: u16,
    /// What went wrong with this request.
    #[schema(example = "lat must be a number of degrees from -90 to 90, got \"95\"")]
    detail: String,
    /// The query parameter or body member at fault (invalid-parameter only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "lat")]
    parameter: Option<String>,
    /// Every reason an import was refused (import-refused only).
    #[serde(skip_serializing_if = "Option::is_none")]
    issues: Option<Vec<IssueDto>>,
    /// What a refused grid change would have left outside every grid:
    /// `incidents`, `hazards` and `routes` with their grids before and after
    /// (grid-change-strands only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    stranded: Option<serde_json::Value>,
    /// Each parent a boundary edit would leave partly uncovered: `parent`,
    /// `opened_m2` (the area opened) and `uncovered` (a GeoJSON geometry of
    /// where no child covers it) (grid-change-gaps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    gaps: Option<Vec<serde_json::Value>>,
    /// Each part of a grid a boundary edit would leave under the minimum
    /// area: `grid`, `area_m2` and `part` (a GeoJSON Polygon)
    /// (grid-change-slivers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    slivers: Option<Vec<serde_json::Value>>,
    /// The grid-set version stored now (grid-change-stale only).
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<i64>,
}

impl From<crate::services::grids::GridChangeError> for ApiError {
    fn from(e: crate::services::grids::GridChangeError) -> Self {
        use crate::services::grids::GridChangeError as E;
        match e {
            E::Invalid(errors) => ApiError::ImportRefused(errors),
            E::EditBreaksRules(errors, parts) => ApiError::EditRefused(errors, parts),
            E::EmptyReplace => ApiError::UnprocessableEntity(e.to_string()),
            E::Stranded(ref impact) => {
                let impact = impact.clone();
                ApiError::GridChangeStranded(format!("{e}; nothing was changed"), Box::new(impact))
            }
            E::Edit(_) => ApiError::UnprocessableEntity(format!("{e}; nothing was changed")),
            E::Gaps(ref gaps) => {
                let gaps = gaps.clone();
                ApiError::GridChangeGaps(format!("{e}; nothing was changed"), gaps)
            }
            E::Slivers(ref slivers) => {
                let slivers = slivers.clone();
                ApiError::GridChangeSlivers(format!("{e}; nothing was changed"), slivers)
            }
            E::Stale { current, .. } => ApiError::GridChangeStale {
                detail: format!("{e}; nothing was changed"),
                current,
            },
            // Something the change moves was changed by someone else while
            // it was applied: nothing was written; try again.
            E::Store(_) if e.is_interference() => ApiError::Conflict(format!(
                "{e} while the grid change was applied; nothing was changed, send it again"
            )),
            E::ScheduledLater { .. } => ApiError::Conflict(format!("{e}; nothing was changed")),
            E::Revision(_) => ApiError::UnprocessableEntity(format!("{e}; nothing was changed")),
            E::NoRevision(_) => ApiError::NotFound(e.to_string()),
            E::Store(source) => ApiError::internal("applying a grid change", source),
        }
    }
}

/// One reason an import was refused.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportIssue)]
pub(super) struct IssueDto {
    /// The feature's `id`, `#N` (its 0-based position) when it has none, or
    /// `#document` for the document as a whole.
    #[schema(example = "620521100001")]
    feature: String,
    /// The property or part at fault (`geometry`, `parent_id`, …), if one is.
    field: Option<String>,
    /// What is wrong, machine-readable: `kind` (e.g. `unknown_parent`,
    /// `overlaps_sibling`) and the values that kind carries.
    #[schema(value_type = Object, example = json!({"kind": "unknown_parent", "parent": "620521999"}))]
    problem: serde_json::Value,
    /// The same, as a sentence.
    #[schema(example = "parent \"620521999\" does not exist")]
    message: String,
    /// Where the problem is, for the map to draw (boundary edits only): the
    /// part of the grid outside its parent, its overlap with the sibling,
    /// or the grid as the edit drew it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    geometry: Option<geojson::Geometry>,
}

impl From<&ImportIssue> for IssueDto {
    fn from(issue: &ImportIssue) -> Self {
        IssueDto {
            feature: issue.feature.clone(),
            field: issue.field.clone(),
            // Serializing a plain data enum into a Value cannot fail; fall back
            // to its text rather than panic if it ever did.
            problem: serde_json::to_value(&issue.problem)
                .unwrap_or_else(|_| serde_json::Value::String(issue.problem.to_string())),
            message: issue.problem.to_string(),
            geometry: None,
        }
    }
}

/// Map a rejection's status onto the variant that names it.
fn from_rejection(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(text),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(text),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::UnprocessableEntity(text),
        s if s.is_server_error() => ApiError::internal("reading the request", text),
        _ => ApiError::BadRequest(text),
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        from_rejection(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        from_rejection(r.status(), r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        from_rejection(r.status(), r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        from_rejection(r.status(), r.body_text())
    }
}

/// The answer for a path no route matches: 404, except that an OGC API
/// path with a trailing slash (`/ogc/`, where OWSLib lands when given a
/// base URL ending in one) is redirected, 308, to the path without it.
pub(super) async fn not_found_fallback(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/ogc/") && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let target = match uri.query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(location) = HeaderValue::from_str(&target) {
            return (
                StatusCode::PERMANENT_REDIRECT,
                [(header::LOCATION, location)],
            )
                .into_response();
        }
    }
    ApiError::NotFound(format!("no resource at {path}")).into_response()
}

/// The 405 answer for a path that exists under another method.
pub(super) async fn method_not_allowed_fallback() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The 500 answer for a handler that panicked (the panic is logged by the
/// panic hook; its message is not sent).
pub(super) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("handling a request", "the handler panicked").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Problem;
    use http_body_util::BodyExt;

    async fn render(e: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = e.into_response();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            content_type,
            serde_json::from_slice(&body).expect("JSON"),
        )
    }

    /// A refused import lists each issue with its feature, field, kind and sentence.
    #[tokio::test]
    async fn import_refused_lists_issues() {
        let errors = ImportErrors {
            issues: vec![ImportIssue {
                feature: "v-1".into(),
                field: Some("parent_id".into()),
                problem: Problem::UnknownParent {
                    parent: "t-9".into(),
                },
            }],
        };
        let (status, content_type, doc) = render(ApiError::ImportRefused(errors)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(content_type, PROBLEM_JSON);
        assert_eq!(doc["type"], "urn:wangge:problem:import-refused");
        assert_eq!(doc["status"], 422);
        assert_eq!(
            doc["issues"],
            serde_json::json!([{
                "feature": "v-1",
                "field": "parent_id",
                "problem": {"kind": "unknown_parent", "parent": "t-9"},
                "message": "parent \"t-9\" does not exist",
            }])
        );
    }

    /// A 500 never carries the internal error's text.
    #[tokio::test]
    async fn internal_errors_do_not_leak() {
        let e = ApiError::internal("writing grids", "SQL: no such table grids_secret");
        let (status, _, doc) = render(e).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = doc.to_string();
        assert!(!text.contains("grids_secret"), "{text}");
        assert!(!text.contains("writing grids"), "{text}");
    }

    /// A bad parameter names it in its own member.
    #[tokio::test]
    async fn bad_parameter_names_it() {
        let (status, _, doc) = render(ApiError::bad_parameter("lat", "lat must be a number")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], "lat");
        assert_eq!(doc["detail"], "lat must be a number");
    }
}
