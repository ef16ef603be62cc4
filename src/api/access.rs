//! Who may call what: the one table of every route and the capability it
//! needs ([`RULES`]), and the middleware that identifies the caller (a
//! session cookie or a bearer token), checks the table and hands the
//! handlers a [`Caller`].
//!
//! - No credential, or one that is unknown, expired or revoked: `401` with
//!   `WWW-Authenticate`, unless the route is public (or, for the grid map,
//!   published by configuration).
//! - A credential whose role lacks the capability: `403`.
//! - A write made with a session cookie must carry the session's CSRF
//!   token in `X-CSRF-Token` (`403` otherwise): a page on another site,
//!   which the browser would send the cookie for, cannot know it.
//! - A route missing from the table is refused with `500` and logged: a
//!   new route is closed until someone writes its row (`tests/access.rs`
//!   fails until then too).
//!
//! Scope (a grid leader sees their subtree only) is the handlers' part:
//! they read it from the [`Caller`].

use std::net::{IpAddr, SocketAddr};

use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::model::Text;
use crate::model::account::{Capability, CredentialKind};
pub use crate::services::accounts::AccessSettings;
use crate::services::accounts::{Actor, Principal, csrf_token};
use crate::state::AppState;
use crate::text;

/// The cookie that carries a web session.
pub const SESSION_COOKIE: &str = "wangge_session";

/// The header a cookie session's writes carry their CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, logged in or not (the login itself, the web map's files,
    /// health, the API description, OGC's landing page).
    Public,
    /// This capability; [`Capability::SeeGridMap`] is open to anonymous
    /// readers when the county publishes its grid map.
    Needs(Capability),
    /// Tiles: incidents need [`Capability::SeeIncidents`], the grid map's
    /// tilesets [`Capability::SeeGridMap`].
    Tileset,
    /// OGC collections: `hazards` needs [`Capability::SeeHazards`], the
    /// grid levels [`Capability::SeeGridMap`].
    Collection,
    /// Open311 writes: the `api_key` in the form is checked by the handler
    /// (the spec puts it in the body), for [`Capability::Report`].
    Open311Key,
}

use Capability::*;

/// Every route: method, path as routed, rule. The web map's own files
/// (`/` and the bundle) are public and not listed one by one.
pub const RULES: &[(&str, &str, Rule)] = &[
    // Accounts.
    ("POST", "/api/session", Rule::Public),
    ("GET", "/api/session", Rule::Public),
    ("DELETE", "/api/session", Rule::Public),
    ("GET", "/api/users", Rule::Needs(ManageUsers)),
    ("POST", "/api/users", Rule::Needs(ManageUsers)),
    ("GET", "/api/users/{id}", Rule::Needs(ManageUsers)),
    ("PATCH", "/api/users/{id}", Rule::Needs(ManageUsers)),
    ("GET", "/api/users/{id}/tokens", Rule::Needs(ManageUsers)),
    ("POST", "/api/users/{id}/tokens", Rule::Needs(ManageUsers)),
    (
        "DELETE",
        "/api/users/{id}/tokens/{token_id}",
        Rule::Needs(ManageUsers),
    ),
    ("GET", "/api/audit", Rule::Needs(ManageUsers)),
    // Grids.
    ("GET", "/api/grids", Rule::Needs(SeeGridMap)),
    ("GET", "/api/grids/{id}", Rule::Needs(SeeGridMap)),
    ("GET", "/api/grids/search", Rule::Needs(SeeGridMap)),
    ("GET", "/api/grids/export", Rule::Needs(SeeGridMap)),
    ("POST", "/api/grids/import", Rule::Needs(EditGrids)),
    ("POST", "/api/grids/edits", Rule::Needs(EditGrids)),
    ("GET", "/api/grids/versions", Rule::Needs(SeeChanges)),
    (
        "GET",
        "/api/grids/versions/{revision}",
        Rule::Needs(SeeChanges),
    ),
    (
        "DELETE",
        "/api/grids/versions/{revision}",
        Rule::Needs(EditGrids),
    ),
    ("POST", "/api/grids/restore", Rule::Needs(EditGrids)),
    ("GET", "/api/changes", Rule::Needs(SeeChanges)),
    ("GET", "/api/locate", Rule::Needs(SeeGridMap)),
    ("POST", "/api/locate", Rule::Needs(SeeGridMap)),
    // Incidents.
    ("POST", "/api/incidents", Rule::Needs(Report)),
    ("GET", "/api/incidents", Rule::Needs(SeeIncidents)),
    (
        "GET",
        "/api/incidents/categories",
        Rule::Needs(SeeIncidents),
    ),
    ("GET", "/api/incidents/stats", Rule::Needs(SeeIncidents)),
    ("GET", "/api/incidents/events", Rule::Needs(SeeIncidents)),
    ("GET", "/api/incidents/{id}", Rule::Needs(SeeIncidents)),
    ("POST", "/api/incidents/{id}/actions", Rule::Needs(Dispatch)),
    (
        "POST",
        "/api/incidents/{id}/escalate",
        Rule::Needs(Dispatch),
    ),
    ("POST", "/api/incidents/{id}/assign", Rule::Needs(Dispatch)),
    ("POST", "/api/incidents/{id}/notes", Rule::Needs(Report)),
    // Hazards and roads.
    ("POST", "/api/hazards", Rule::Needs(EditHazards)),
    ("GET", "/api/hazards", Rule::Needs(SeeHazards)),
    ("GET", "/api/hazards/{id}", Rule::Needs(SeeHazards)),
    ("PATCH", "/api/hazards/{id}", Rule::Needs(EditHazards)),
    ("DELETE", "/api/hazards/{id}", Rule::Needs(EditHazards)),
    ("GET", "/api/hazards/calendar", Rule::Needs(SeeHazards)),
    (
        "GET",
        "/api/hazards/{id}/inspections",
        Rule::Needs(SeeHazards),
    ),
    ("GET", "/api/coverage", Rule::Needs(SeeHazards)),
    ("GET", "/api/roads", Rule::Needs(SeeGridMap)),
    ("PUT", "/api/roads", Rule::Needs(EditGrids)),
    // Patrols.
    ("POST", "/api/patrol-plans", Rule::Needs(Patrol)),
    ("POST", "/api/routes", Rule::Needs(Patrol)),
    ("GET", "/api/routes", Rule::Needs(SeePatrols)),
    ("GET", "/api/routes/{id}", Rule::Needs(SeePatrols)),
    ("PUT", "/api/routes/{id}", Rule::Needs(Patrol)),
    ("DELETE", "/api/routes/{id}", Rule::Needs(Patrol)),
    ("POST", "/api/routes/{id}/patrols", Rule::Needs(Patrol)),
    ("GET", "/api/patrols", Rule::Needs(SeePatrols)),
    ("GET", "/api/patrols/{id}", Rule::Needs(SeePatrols)),
    ("POST", "/api/patrols/{id}/track", Rule::Needs(Patrol)),
    ("POST", "/api/patrols/{id}/checkins", Rule::Needs(Patrol)),
    ("POST", "/api/patrols/{id}/finish", Rule::Needs(Patrol)),
    // Photos come with reports and check-ins; their addresses hold a random
    // token, known to those shown what names them.
    ("POST", "/api/photos", Rule::Needs(Report)),
    ("GET", "/api/photos/{token}", Rule::Needs(SeeIncidents)),
    (
        "GET",
        "/api/photos/{token}/thumbnail",
        Rule::Needs(SeeIncidents),
    ),
    // Open311 GeoReport v2.
    ("GET", "/open311/v2/discovery.json", Rule::Public),
    ("GET", "/open311/v2/discovery.xml", Rule::Public),
    ("GET", "/open311/v2/services.json", Rule::Public),
    ("GET", "/open311/v2/services.xml", Rule::Public),
    ("GET", "/open311/v2/services/{code}", Rule::Public),
    ("POST", "/open311/v2/requests.json", Rule::Open311Key),
    ("POST", "/open311/v2/requests.xml", Rule::Open311Key),
    (
        "GET",
        "/open311/v2/requests.json",
        Rule::Needs(SeeIncidents),
    ),
    ("GET", "/open311/v2/requests.xml", Rule::Needs(SeeIncidents)),
    (
        "GET",
        "/open311/v2/requests/{id}",
        Rule::Needs(SeeIncidents),
    ),
    ("GET", "/open311/v2/tokens/{token}", Rule::Needs(Report)),
    // OGC API - Features.
    ("GET", "/ogc", Rule::Public),
    ("GET", "/ogc/conformance", Rule::Public),
    ("GET", "/ogc/api", Rule::Public),
    ("GET", "/ogc/collections", Rule::Needs(SeeGridMap)),
    ("GET", "/ogc/collections/{collectionId}", Rule::Collection),
    (
        "GET",
        "/ogc/collections/{collectionId}/items",
        Rule::Collection,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/items/{featureId}",
        Rule::Collection,
    ),
    (
        "GET",
        "/ogc/collections/{collectionId}/queryables",
        Rule::Collection,
    ),
    // Tiles and the style.
    ("GET", "/tiles/{tilejson}", Rule::Tileset),
    ("GET", "/tiles/{tileset}/{z}/{x}/{y}", Rule::Tileset),
    ("GET", "/style.json", Rule::Needs(SeeGridMap)),
    // The service itself.
    ("GET", "/healthz", Rule::Public),
    ("GET", "/api/openapi.json", Rule::Public),
    ("GET", "/api/openapi-3.0.json", Rule::Public),
];

/// The rule for a request: by the route it matched, or public for the web
/// map's own files. `None`: a route without a row.
pub fn rule_for(method: &Method, matched: &str) -> Option<Rule> {
    // HEAD is answered by GET's handler.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    RULES
        .iter()
        .find(|(m, path, _)| *m == method && *path == matched)
        .map(|(_, _, rule)| *rule)
        .or_else(|| (method == "GET" && crate::web::serves(matched)).then_some(Rule::Public))
}

/// Who is calling, for the handlers: the principal (none when anonymous)
/// and where the request came from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The checked credential's holder.
    pub principal: Option<Principal>,
    /// The client's address as far as it can be known.
    pub source: String,
}

impl Caller {
    /// The caller as an actor for the store's records: their login, or
    /// `anonymous`.
    pub fn actor(&self) -> Actor {
        Actor {
            login: self
                .principal
                .as_ref()
                .map_or_else(|| "anonymous".to_owned(), |p| p.user.login.clone()),
            source: self.source.clone(),
        }
    }

    /// The login of the caller (`anonymous` when none).
    pub fn login(&self) -> String {
        self.actor().login
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Caller>().cloned().unwrap_or(Caller {
            principal: None,
            source: String::new(),
        }))
    }
}

/// The middleware: identify, check the rule, pass the [`Caller`] on.
pub(super) async fn guard(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(matched) = request.extensions().get::<MatchedPath>().cloned() else {
        // Unknown paths reach the 404 fallback; it reveals nothing.
        return next.run(request).await;
    };
    let settings = state.access();
    let source = client_address(&request, &settings.trusted_proxies);
    forget_forwarding_unless_trusted(&mut request, &settings.trusted_proxies);
    let Some(rule) = rule_for(request.method(), matched.as_str()) else {
        if RULES.iter().any(|(_, path, _)| *path == matched.as_str()) {
            // A known path with a method it does not answer: the 405 fallback.
            return next.run(request).await;
        }
        tracing::error!(
            method = %request.method(),
            route = matched.as_str(),
            "route has no access rule; refused"
        );
        return ApiError::internal(
            "checking access",
            format!(
                "no access rule for {} {}",
                request.method(),
                matched.as_str()
            ),
        )
        .into_response();
    };
    let query_key = open311_query_key(&request);
    let (principal, by_cookie) = match identify(&state, request.headers(), query_key).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let needed = match rule {
        Rule::Public | Rule::Open311Key => None,
        Rule::Needs(c) => Some(c),
        // From the path parameters as the handlers read them (decoded), so
        // that `/tiles/%69ncidents/…` is the incidents tileset here too.
        Rule::Tileset | Rule::Collection => {
            let (mut parts, body) = request.into_parts();
            let params = RawPathParams::from_request_parts(&mut parts, &()).await;
            request = Request::from_parts(parts, body);
            let named = |wanted: &[&str]| {
                params.as_ref().ok().and_then(|params| {
                    params
                        .iter()
                        .find(|(key, _)| wanted.contains(key))
                        .map(|(_, value)| value.to_owned())
                })
            };
            Some(if rule == Rule::Tileset {
                tileset_capability(&named(&["tileset", "tilejson"]).unwrap_or_default())
            } else {
                collection_capability(&named(&["collectionId"]).unwrap_or_default())
            })
        }
    };
    if let Some(capability) = needed {
        let open = capability == SeeGridMap && settings.public_grid_map;
        match &principal {
            None if !open => return unauthorized().into_response(),
            Some(p) if !p.may(capability) && !open => {
                let (role, role_zh) = (p.user.role, p.user.role.zh_name());
                let needs = capability.as_str();
                return ApiError::Forbidden(text!(
                    "a {role} may not do this (it needs {needs})",
                    "{role_zh}（{role}）无权执行此操作（需要 {needs} 权限）"
                ))
                .into_response();
            }
            _ => {}
        }
    }
    if let Some(secret) = by_cookie
        && !is_safe(request.method())
    {
        let sent = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        // Compared in constant time: how long a wrong guess takes must not
        // tell how much of it was right.
        let expected = csrf_token(&secret);
        let matches = sent.is_some_and(|sent| {
            subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected.as_bytes()).into()
        });
        if !matches {
            return ApiError::Forbidden(Text::new(
                "a write with a session cookie must carry the session's CSRF token in \
                 X-CSRF-Token (GET /api/session tells it)",
                "使用登录 Cookie 提交更改时，须在请求头 X-CSRF-Token 中携带本次登录的 CSRF 令牌\
                 （可通过 GET /api/session 获取）",
            ))
            .into_response();
        }
    }
    let caller = Caller { principal, source };
    let origin = caller.actor();
    request.extensions_mut().insert(caller);
    // Every change the request commits is audited as the caller's, with
    // their address (see `services::origin`).
    crate::services::origin::acting_as(origin, next.run(request)).await
}

/// The `api_key` query parameter of an Open311 request: GeoReport clients
/// send their key there (the spec names no header), and it counts as a
/// bearer token. Elsewhere a key in the query counts for nothing: URLs end
/// up in histories and proxies' logs.
fn open311_query_key(request: &Request) -> Option<String> {
    if !request.uri().path().starts_with("/open311/") {
        return None;
    }
    let axum::extract::Query(pairs) =
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(request.uri()).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == "api_key")
        .map(|(_, key)| key.trim().to_owned())
        .filter(|key| !key.is_empty())
}

/// The principal of the request's credential, and the session secret when
/// it came in a cookie. A bearer token wins over an Open311 `api_key`
/// (`query_key`), which wins over a cookie. A credential that does not
/// check out is a 401 even on public routes, so that a client learns at
/// once that its token has expired.
async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    query_key: Option<String>,
) -> Result<(Option<Principal>, Option<String>), ApiError> {
    let header_token = bearer(headers);
    let from_query = header_token.is_none() && query_key.is_some();
    let (secret, by_cookie) = if let Some(token) = header_token.or(query_key) {
        (token, false)
    } else if let Some(session) = session_cookie(headers) {
        (session, true)
    } else {
        return Ok((None, None));
    };
    let principal = state
        .accounts()
        .authenticate(&secret)
        .await
        .map_err(|e| ApiError::internal("checking a credential", e))?;
    match principal {
        // A cookie carries sessions only: a token put in one would skip
        // the CSRF check, so it counts for nothing.
        Some(p) if by_cookie && p.kind != CredentialKind::Session => Ok((None, None)),
        // A query carries API tokens only: a session's secret in a URL
        // would end up in histories and logs.
        Some(p) if from_query && p.kind != CredentialKind::Token => {
            Err(unauthorized_because(Text::new(
                "api_key must be an API token, not a session",
                "api_key 必须是 API 令牌，不能是登录会话凭据",
            )))
        }
        Some(p) => Ok((Some(p), by_cookie.then_some(secret))),
        None if by_cookie => Ok((None, None)),
        None => Err(unauthorized_because(Text::new(
            "the bearer token is unknown, expired or revoked",
            "令牌无效、已过期或已被撤销",
        ))),
    }
}

/// The secret a request identifies itself with: its bearer token, else its
/// session cookie (as [`identify`] reads them).
pub(super) fn credential_secret(headers: &HeaderMap) -> Option<String> {
    bearer(headers).or_else(|| session_cookie(headers))
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The session secret of the request's cookie.
pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What a tileset (`incidents`, or its TileJSON `incidents.json`) needs.
fn tileset_capability(tileset: &str) -> Capability {
    let name = tileset.split('.').next().unwrap_or_default();
    if name == crate::tiles::Tileset::Incidents.name() {
        SeeIncidents
    } else {
        SeeGridMap
    }
}

/// What an OGC collection needs.
fn collection_capability(id: &str) -> Capability {
    if id == "hazards" {
        SeeHazards
    } else {
        SeeGridMap
    }
}

/// Drop the `X-Forwarded-*` headers of a request whose peer is not a
/// trusted proxy: any client could otherwise make the server write their
/// host into the tile, style and OGC links it hands others (those are
/// built from `X-Forwarded-Host`/`-Proto`, see `extract::BaseUrl`), or
/// claim another address in the audit trail.
fn forget_forwarding_unless_trusted(request: &mut Request, trusted: &[IpAddr]) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if peer.is_some_and(|ip| trusted.contains(&ip)) {
        return;
    }
    let headers = request.headers_mut();
    for name in [
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
    ] {
        headers.remove(name);
    }
}

/// The client's address: the peer, or, when the peer is a trusted proxy,
/// the last address its `X-Forwarded-For` names.
fn client_address(request: &Request, trusted: &[IpAddr]) -> String {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = || {
        request
            .headers()
            .get("x-forwarded-for")?
            .to_str()
            .ok()?
            .rsplit(',')
            .next()?
            .trim()
            .parse::<IpAddr>()
            .ok()
    };
    match peer {
        Some(ip) if trusted.contains(&ip) => forwarded().unwrap_or(ip).to_string(),
        Some(ip) => ip.to_string(),
        None => String::new(),
    }
}

fn unauthorized() -> ApiError {
    unauthorized_because(Text::new(
        "log in (POST /api/session) or send a bearer token",
        "请先登录（POST /api/session）或提供 Bearer 令牌",
    ))
}

fn unauthorized_because(why: Text) -> ApiError {
    ApiError::Unauthorized(why)
}

/// The `WWW-Authenticate` value of a 401.
pub(super) const CHALLENGE: HeaderValue = HeaderValue::from_static("Bearer realm=\"wangge\"");
