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
//! extractors in [`super::extract`] and [`super::rejections`], so that every
//! error the API produces has the same shape.
//!
//! Every sentence is a [`Text`] in English and Chinese; the middleware
//! [`speak_the_callers_language`] sends the Chinese document to a caller
//! whose `Accept-Language` prefers `zh`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::import::{ImportErrors, ImportIssue};
use crate::model::{Language, Localized, Text};
use crate::text;

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
        detail: Text,
    },
    /// 400: the request cannot be read at all (e.g. a malformed query string).
    #[error("{0}")]
    BadRequest(Text),
    /// 401: no credential, or one that is unknown, expired or revoked.
    #[error("{0}")]
    Unauthorized(Text),
    /// 403: the caller's role (or a missing CSRF token) does not allow this.
    #[error("{0}")]
    Forbidden(Text),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(Text),
    /// 429: too many attempts; `Retry-After` says when to try again.
    #[error("{detail}")]
    TooManyRequests {
        /// The sentence.
        detail: Text,
        /// Seconds until a new attempt may succeed.
        retry_after_secs: u64,
    },
    /// 409: the change conflicts with the resource's current state (an
    /// action its process does not allow now, or a stale version).
    #[error("{0}")]
    Conflict(Text),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body (or the batch in it) is larger than this server accepts.
    #[error("{0}")]
    PayloadTooLarge(Text),
    /// 415: the body has a content type this endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(Text),
    /// 422: the body is well-formed JSON but not the expected document.
    #[error("{0}")]
    UnprocessableEntity(Text),
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
    GridChangeStranded(Text, Box<crate::services::grids::Impact>),
    /// A boundary edit that would open gaps in a parent's cover (422), listed.
    #[error("{0}")]
    GridChangeGaps(Text, Vec<crate::import::edit::Gap>),
    /// A boundary edit that would leave slivers (422), listed.
    #[error("{0}")]
    GridChangeSlivers(Text, Vec<crate::import::edit::Sliver>),
    /// A grid change planned on a version that is no longer current (409).
    #[error("{detail}")]
    GridChangeStale {
        /// The sentence.
        detail: Text,
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
    pub fn bad_parameter(parameter: impl Into<String>, detail: Text) -> Self {
        ApiError::BadParameter {
            parameter: parameter.into(),
            detail,
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

    /// The sentence this error carries, in both languages. Server errors
    /// get a fixed one: their own text is logged, never sent.
    fn detail(&self) -> Text {
        match self {
            ApiError::BadParameter { detail, .. }
            | ApiError::TooManyRequests { detail, .. }
            | ApiError::GridChangeStale { detail, .. }
            | ApiError::BadRequest(detail)
            | ApiError::Unauthorized(detail)
            | ApiError::Forbidden(detail)
            | ApiError::NotFound(detail)
            | ApiError::Conflict(detail)
            | ApiError::PayloadTooLarge(detail)
            | ApiError::UnsupportedMediaType(detail)
            | ApiError::UnprocessableEntity(detail)
            | ApiError::GridChangeStranded(detail, _)
            | ApiError::GridChangeGaps(detail, _)
            | ApiError::GridChangeSlivers(detail, _) => detail.clone(),
            ApiError::ImportRefused(errors) => {
                let n = errors.issues.len();
                let s = if n == 1 { "" } else { "s" };
                text!(
                    "the grids were not imported ({n} issue{s}); the stored grids are unchanged",
                    "网格未导入（共 {n} 个问题），已保存的网格未作任何更改"
                )
            }
            ApiError::EditRefused(errors, _) => {
                let n = errors.issues.len();
                let s = if n == 1 { "" } else { "s" };
                text!(
                    "the edit breaks the grid rules ({n} issue{s}); the stored grids are unchanged",
                    "本次编辑不符合网格规则（共 {n} 个问题），已保存的网格未作任何更改"
                )
            }
            ApiError::MethodNotAllowed => text!(
                "this path does not answer to this method",
                "该地址不支持此请求方法"
            ),
            ApiError::Internal { .. } => text!(
                "the server failed to answer; the failure is logged",
                "服务器处理出错，错误已记入日志"
            ),
            ApiError::ServiceUnavailable { .. } => {
                text!("the grid store is not answering", "网格数据库暂无响应")
            }
        }
    }

    /// The problem document's `type` and `title` (English, Chinese).
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            ApiError::BadParameter { .. } => (
                "urn:wangge:problem:invalid-parameter",
                "Invalid parameter",
                "参数无效",
            ),
            ApiError::ImportRefused(_) => (
                "urn:wangge:problem:import-refused",
                "Import refused",
                "导入被拒绝",
            ),
            ApiError::EditRefused(..) => (
                "urn:wangge:problem:import-refused",
                "Edit refused",
                "编辑被拒绝",
            ),
            ApiError::GridChangeStranded(..) => (
                "urn:wangge:problem:grid-change-strands",
                "Grid change refused",
                "网格调整被拒绝",
            ),
            ApiError::GridChangeGaps(..) => (
                "urn:wangge:problem:grid-change-gaps",
                "Grid change refused",
                "网格调整被拒绝",
            ),
            ApiError::GridChangeSlivers(..) => (
                "urn:wangge:problem:grid-change-slivers",
                "Grid change refused",
                "网格调整被拒绝",
            ),
            ApiError::GridChangeStale { .. } => (
                "urn:wangge:problem:grid-change-stale",
                "Grids changed meanwhile",
                "网格已在此期间被修改",
            ),
            _ => {
                let status = self.status();
                let english = status.canonical_reason().unwrap_or("Error");
                ("about:blank", english, status_zh(status))
            }
        }
    }

    /// The problem document for this error in `language`.
    fn problem(&self, language: Language) -> ProblemDocument {
        let (problem_type, title_en, title_zh) = self.kind();
        let mut doc = ProblemDocument {
            problem_type,
            title: match language {
                Language::English => title_en,
                Language::Chinese => title_zh,
            }
            .to_owned(),
            status: self.status().as_u16(),
            detail: self.detail().get(language).to_owned(),
            parameter: None,
            issues: None,
            stranded: None,
            gaps: None,
            slivers: None,
            current_version: None,
        };
        match self {
            ApiError::BadParameter { parameter, .. } => {
                doc.parameter = Some(parameter.clone());
            }
            ApiError::ImportRefused(errors) => {
                doc.issues = Some(
                    errors
                        .issues
                        .iter()
                        .map(|issue| IssueDto::new(issue, language))
                        .collect(),
                );
            }
            ApiError::EditRefused(errors, parts) => {
                doc.issues = Some(
                    errors
                        .issues
                        .iter()
                        .zip(parts)
                        .map(|(issue, part)| IssueDto {
                            geometry: part.as_ref().map(geojson::Geometry::from),
                            ..IssueDto::new(issue, language)
                        })
                        .collect(),
                );
            }
            ApiError::GridChangeStranded(_, stranded) => {
                doc.stranded = serde_json::to_value(stranded).ok();
            }
            ApiError::GridChangeGaps(_, gaps) => {
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
                doc.current_version = Some(*current);
            }
            _ => {}
        }
        doc
    }
}

/// A status's title in Chinese, for the statuses the API sends without a
/// problem type of its own.
fn status_zh(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求有误",
        401 => "未登录或登录已失效",
        403 => "无权进行此操作",
        404 => "未找到",
        405 => "不支持此请求方法",
        409 => "与当前状态冲突",
        413 => "请求体过大",
        415 => "不支持的内容类型",
        422 => "请求内容无法处理",
        429 => "请求过于频繁",
        500 => "服务器内部错误",
        503 => "服务暂不可用",
        _ => "错误",
    }
}

/// The Chinese problem document of an error answer, serialized, riding on
/// the response until [`speak_the_callers_language`] sends it or drops it.
#[derive(Clone)]
struct ChineseProblem(axum::body::Bytes);

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
        let mut response = (status, axum::Json(self.problem(Language::English))).into_response();
        if let Ok(chinese) = serde_json::to_vec(&self.problem(Language::Chinese)) {
            response
                .extensions_mut()
                .insert(ChineseProblem(chinese.into()));
        }
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

/// Middleware: an error answer goes out in the caller's language, Chinese
/// when its `Accept-Language` prefers `zh` ([`super::params::language`]),
/// English otherwise; either way it says `Content-Language` and
/// `Vary: Accept-Language`. Other answers pass untouched.
pub(super) async fn speak_the_callers_language(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let language = super::params::language(request.headers());
    let mut response = next.run(request).await;
    let Some(ChineseProblem(chinese)) = response.extensions_mut().remove::<ChineseProblem>() else {
        return response;
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(match language {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }),
    );
    if language == Language::Chinese {
        headers.remove(header::CONTENT_LENGTH);
        *response.body_mut() = axum::body::Body::from(chinese);
    }
    response
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
        let unchanged = || Text::of(&e).then(text!("nothing was changed", "未作任何更改"));
        match e {
            E::Invalid(errors) => ApiError::ImportRefused(errors),
            E::EditBreaksRules(errors, parts) => ApiError::EditRefused(errors, parts),
            E::EmptyReplace => ApiError::UnprocessableEntity(Text::of(&e)),
            E::Stranded(ref impact) => {
                ApiError::GridChangeStranded(unchanged(), Box::new(impact.clone()))
            }
            E::Edit(_) | E::Revision(_) => ApiError::UnprocessableEntity(unchanged()),
            E::Gaps(ref gaps) => ApiError::GridChangeGaps(unchanged(), gaps.clone()),
            E::Slivers(ref slivers) => ApiError::GridChangeSlivers(unchanged(), slivers.clone()),
            E::Stale { current, .. } => ApiError::GridChangeStale {
                detail: unchanged(),
                current,
            },
            // Something the change moves was changed by someone else while
            // it was applied: nothing was written; try again.
            E::Store(_) if e.is_interference() => ApiError::Conflict(Text::new(
                format!(
                    "{e} while the grid change was applied; nothing was changed, send it again"
                ),
                format!("网格调整期间{}，未作任何更改，请重新提交", e.zh()),
            )),
            E::ScheduledLater { .. } => ApiError::Conflict(unchanged()),
            E::NoRevision(_) => ApiError::NotFound(Text::of(&e)),
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

impl IssueDto {
    /// The issue, its sentence in `language`.
    fn new(issue: &ImportIssue, language: Language) -> Self {
        IssueDto {
            feature: issue.feature.clone(),
            field: issue.field.clone(),
            // Serializing a plain data enum into a Value cannot fail; fall back
            // to its text rather than panic if it ever did.
            problem: serde_json::to_value(&issue.problem)
                .unwrap_or_else(|_| serde_json::Value::String(issue.problem.to_string())),
            message: match language {
                Language::English => issue.problem.to_string(),
                Language::Chinese => issue.problem.zh(),
            },
            geometry: None,
        }
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
    ApiError::NotFound(text!("no resource at {path}", "地址 {path} 不存在")).into_response()
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
        let (status, _, doc) = render(ApiError::bad_parameter(
            "lat",
            text!("lat must be a number", "lat 必须是数字"),
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(doc["parameter"], "lat");
        assert_eq!(doc["detail"], "lat must be a number");
    }

    /// The same error reaches a caller that prefers Chinese in Chinese,
    /// title and sentence, and any other caller in English; both answers
    /// say they vary by `Accept-Language`. Answers that are not errors pass
    /// untouched.
    #[tokio::test]
    async fn errors_speak_the_callers_language() {
        use tower::ServiceExt;
        // One handler for both paths (a `.route` here would count as an
        // API route for tests/access.rs).
        let app = axum::Router::new()
            .fallback(|uri: axum::http::Uri| async move {
                if uri.path() == "/e" {
                    ApiError::NotFound(text!("no incident 7", "未找到编号为 7 的事件"))
                        .into_response()
                } else {
                    "fine".into_response()
                }
            })
            .layer(axum::middleware::from_fn(speak_the_callers_language));
        let ask = |path: &str, language: Option<&str>| {
            let mut request = axum::http::Request::builder().uri(path);
            if let Some(l) = language {
                request = request.header(header::ACCEPT_LANGUAGE, l);
            }
            app.clone()
                .oneshot(request.body(axum::body::Body::empty()).expect("request"))
        };
        for (language, title, detail, content_language) in [
            (
                Some("zh-CN,zh;q=0.9,en;q=0.8"),
                "未找到",
                "未找到编号为 7 的事件",
                "zh-CN",
            ),
            (Some("en-US,zh;q=0.5"), "Not Found", "no incident 7", "en"),
            (None, "Not Found", "no incident 7", "en"),
        ] {
            let response = ask("/e", language).await.expect("answer");
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            let headers = response.headers().clone();
            assert_eq!(headers[header::CONTENT_LANGUAGE], content_language);
            assert_eq!(headers[header::VARY], "accept-language");
            assert_eq!(headers[header::CONTENT_TYPE], PROBLEM_JSON);
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(
                (doc["title"].as_str(), doc["detail"].as_str()),
                (Some(title), Some(detail))
            );
            assert_eq!(doc["status"], 404);
        }
        let response = ask("/ok", Some("zh-CN")).await.expect("answer");
        assert!(response.headers().get(header::CONTENT_LANGUAGE).is_none());
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"fine");
    }
}
