//! Logging in and out (`/api/session`), users and their tokens
//! (`/api/users`, admins only) and the audit trail (`/api/audit`).
//!
//! A login sets the session cookie: `HttpOnly` (no script reads it),
//! `Secure`, `SameSite=Strict` (no other site's page sends it) and
//! `Path=/`; its CSRF token comes in the body and from `GET /api/session`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::ApiError;
use super::access::{Caller, SESSION_COOKIE, session_cookie};
use super::error::ProblemDocument;
use super::extract::{Json, Query};
use super::value_schemas::{CapabilityName, RoleName};
use crate::model::Text;
use crate::model::account::{
    AuditEntry, Capability, Credential, Role, Scope, User, UserDraft, UserId,
};
use crate::services::accounts::{
    AccountError, AuditFilter, SESSION_LIFETIME, UserChange, csrf_token,
};
use crate::state::AppState;
use crate::text;

/// The largest body of these routes, bytes: names and a password.
const BODY_LIMIT: usize = 16 * 1024;

/// The most audit entries one page holds.
pub const MAX_AUDIT_PAGE: u32 = 1000;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/session", post(login).get(whoami).delete(logout))
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{id}", get(one_user).patch(change_user))
        .route("/api/users/{id}/tokens", get(list_tokens).post(issue_token))
        .route("/api/users/{id}/tokens/{token_id}", delete(revoke_token))
        .route("/api/audit", get(audit))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(OpenApi)]
#[openapi(
    paths(login, whoami, logout, list_users, create_user, one_user, change_user, list_tokens,
        issue_token, revoke_token, audit),
    components(schemas(LoginBody, SessionDto, UserDto, NewUserBody, UserChangeBody, TokenBody,
        TokenDto, AuditPage)),
    tags((name = "accounts", description = "Logging in, users, tokens and the audit trail"))
)]
pub(super) struct AccountsApi;

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct UserDto {
    id: i64,
    login: String,
    display_name: String,
    /// admin, planner, dispatcher, grid_leader, grid_member, department, viewer
    role: String,
    /// `county`, `grid:ID` or `department:NAME`
    scope: String,
    disabled: bool,
    version: i64,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.0,
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str().into(),
            scope: u.scope.encode(),
            disabled: u.disabled,
            version: u.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginBody {
    login: String,
    password: String,
}

/// Who is logged in.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SessionDto {
    user: UserDto,
    /// What the user may do (the web map shows only these actions).
    capabilities: Vec<&'static str>,
    /// For a cookie session: send it as `X-CSRF-Token` with every write.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    /// RFC 3339.
    expires_at: String,
}

/// `POST /api/session`: log in.
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "accounts",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionDto),
        (status = 401, description = "Wrong login or password (never says which)",
            body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this name or from this \
            address; `Retry-After` says when to try again",
            body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
async fn login(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let (secret, principal) = state
        .accounts()
        .login(&body.login, &body.password, &caller.source)
        .await
        .map_err(account_error)?;
    let csrf = csrf_token(&secret);
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; HttpOnly;{} SameSite=Strict; Path=/; Max-Age={}",
        secure_attribute(&state),
        SESSION_LIFETIME.as_secs()
    );
    let dto = session_dto(&principal.user, Some(csrf), principal.expires_at, |c| {
        principal.may(c)
    });
    let mut response = axum::Json(dto).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("setting the cookie", e))?,
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn session_dto(
    user: &User,
    csrf_token: Option<String>,
    expires_at: jiff::Timestamp,
    may: impl Fn(Capability) -> bool,
) -> SessionDto {
    SessionDto {
        user: UserDto::from(user),
        capabilities: Capability::ALL
            .into_iter()
            .filter(|c| may(*c))
            .map(Capability::as_str)
            .collect(),
        csrf_token,
        expires_at: expires_at.to_string(),
    }
}

/// `GET /api/session`: who is logged in.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller", body = SessionDto),
        (status = 401, description = "Not logged in", body = ProblemDocument,
            content_type = "application/problem+json"),
    )
)]
async fn whoami(caller: Caller, headers: HeaderMap) -> Result<Response, ApiError> {
    let principal = caller
        .principal
        .ok_or_else(|| ApiError::Unauthorized(Text::new("not logged in", "未登录")))?;
    let csrf = session_cookie(&headers)
        .filter(|_| principal.kind == crate::model::account::CredentialKind::Session)
        .map(|secret| csrf_token(&secret));
    let dto = session_dto(&principal.user, csrf, principal.expires_at, |c| {
        principal.may(c)
    });
    let mut response = axum::Json(dto).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `DELETE /api/session`: log out.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "accounts",
    responses((status = 204, description = "Logged out; the cookie is cleared")),
)]
async fn logout(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers) {
        state
            .accounts()
            .logout(&secret, &caller.actor())
            .await
            .map_err(account_error)?;
    }
    let clear = format!(
        "{SESSION_COOKIE}=; HttpOnly;{} SameSite=Strict; Path=/; Max-Age=0",
        secure_attribute(&state)
    );
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// ` Secure` for session cookies, unless the server was started with
/// `--plain-http-sessions` (see [`AccessSettings::plain_http_sessions`]).
///
/// [`AccessSettings::plain_http_sessions`]: crate::services::accounts::AccessSettings
fn secure_attribute(state: &AppState) -> &'static str {
    if state.access().plain_http_sessions {
        ""
    } else {
        " Secure;"
    }
}

/// `GET /api/users`.
#[utoipa::path(get, path = "/api/users", tag = "accounts",
    responses((status = 200, description = "Every user", body = [UserDto])))]
async fn list_users(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let users = state
        .accounts()
        .users()
        .await
        .map_err(|e| ApiError::internal("reading users", e))?;
    Ok(axum::Json(users.iter().map(UserDto::from).collect::<Vec<_>>()).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewUserBody {
    /// 1 to 64 letters, digits, `.`, `_` or `-`.
    #[schema(min_length = 1, max_length = 64, pattern = "^[\\w.-]+$")]
    login: String,
    /// At most 100 characters, none a control character; the login when
    /// blank.
    #[serde(default)]
    #[schema(max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    display_name: String,
    #[schema(value_type = RoleName)]
    role: String,
    /// `county`, `grid:ID` or `department:NAME`
    #[schema(pattern = "^(county|grid:.+|department:.+)$")]
    scope: String,
    /// At least 10 characters, at most 1024 bytes.
    #[schema(min_length = 10, max_length = 1024)]
    password: String,
}

/// `POST /api/users`.
#[utoipa::path(post, path = "/api/users", tag = "accounts", request_body = NewUserBody,
    responses(
        (status = 201, description = "Created", body = UserDto),
        (status = 409, description = "The login is taken", body = ProblemDocument,
            content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; nothing created", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn create_user(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<NewUserBody>,
) -> Result<Response, ApiError> {
    let draft = UserDraft {
        login: body.login,
        display_name: body.display_name,
        role: parse_role(&body.role)?,
        scope: parse_scope(&state, &body.scope)?,
    };
    let user = state
        .accounts()
        .create_user(draft, &body.password, &caller.actor())
        .await
        .map_err(account_error)?;
    Ok((StatusCode::CREATED, axum::Json(UserDto::from(&user))).into_response())
}

/// `GET /api/users/{id}`.
#[utoipa::path(get, path = "/api/users/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "The user's number")),
    responses(
        (status = 200, description = "The user", body = UserDto),
        (status = 404, description = "No such user", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn one_user(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = find_user(&state, &id).await?;
    Ok(axum::Json(UserDto::from(&user)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UserChangeBody {
    /// The version the user was read at.
    version: i64,
    display_name: Option<String>,
    #[schema(value_type = Option<RoleName>)]
    role: Option<String>,
    /// `county`, `grid:ID` or `department:NAME`
    #[schema(pattern = "^(county|grid:.+|department:.+)$")]
    scope: Option<String>,
    /// Disabling ends every session and token of theirs.
    disabled: Option<bool>,
    /// A new password, 10 characters to 1024 bytes (ends every session and
    /// token of theirs).
    #[schema(min_length = 10, max_length = 1024)]
    password: Option<String>,
}

/// `PATCH /api/users/{id}`.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "accounts", request_body = UserChangeBody,
    params(("id" = i64, Path, description = "The user's number")),
    responses(
        (status = 200, description = "Changed", body = UserDto),
        (status = 404, description = "No such user", body = ProblemDocument,
            content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since `version`", body = ProblemDocument,
            content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; nothing changed", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn change_user(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UserChangeBody>,
) -> Result<Response, ApiError> {
    let user = find_user(&state, &id).await?;
    let change = UserChange {
        display_name: body.display_name,
        role: body.role.as_deref().map(parse_role).transpose()?,
        scope: body
            .scope
            .as_deref()
            .map(|s| parse_scope(&state, s))
            .transpose()?,
        disabled: body.disabled,
        password: body.password,
    };
    if caller
        .principal
        .as_ref()
        .is_some_and(|p| p.user.id == user.id)
        && (change.disabled == Some(true) || change.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(ApiError::Conflict(Text::new(
            "an admin cannot disable themselves or give up their own role",
            "管理员不能停用自己的账号，也不能放弃自己的管理员角色",
        )));
    }
    let changed = state
        .accounts()
        .change_user(user.id, change, body.version, &caller.actor())
        .await
        .map_err(account_error)?;
    Ok(axum::Json(UserDto::from(&changed)).into_response())
}

/// A token as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TokenDto {
    id: i64,
    label: String,
    /// Capabilities it is limited to; empty: all the role allows.
    capabilities: Vec<String>,
    created_at: String,
    expires_at: String,
    revoked_at: Option<String>,
    /// Only in the answer that issued it: the secret, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl From<&Credential> for TokenDto {
    fn from(c: &Credential) -> Self {
        TokenDto {
            id: c.id,
            label: c.label.clone(),
            capabilities: c.scopes.clone(),
            created_at: c.created_at.to_string(),
            expires_at: c.expires_at.to_string(),
            revoked_at: c.revoked_at.map(|t| t.to_string()),
            token: None,
        }
    }
}

/// `GET /api/users/{id}/tokens`.
#[utoipa::path(get, path = "/api/users/{id}/tokens", tag = "accounts",
    params(("id" = i64, Path, description = "The user's number")),
    responses(
        (status = 200, description = "Their tokens, newest first", body = [TokenDto]),
        (status = 404, description = "No such user", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn list_tokens(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = find_user(&state, &id).await?;
    let tokens = state
        .accounts()
        .tokens_of(user.id)
        .await
        .map_err(|e| ApiError::internal("reading tokens", e))?;
    Ok(axum::Json(tokens.iter().map(TokenDto::from).collect::<Vec<_>>()).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    /// What the token is for ("Open311 kiosk"): at most 100 characters,
    /// no control characters.
    #[serde(default)]
    #[schema(max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    label: String,
    /// How many days it lasts (1 to 366).
    #[schema(minimum = 1, maximum = 366)]
    days: i64,
    /// Capabilities to limit it to; all the role allows when absent.
    #[serde(default)]
    #[schema(value_type = Vec<CapabilityName>)]
    capabilities: Vec<String>,
}

/// `POST /api/users/{id}/tokens`: issue a bearer token.
#[utoipa::path(post, path = "/api/users/{id}/tokens", tag = "accounts", request_body = TokenBody,
    params(("id" = i64, Path, description = "The user's number")),
    responses(
        (status = 201, description = "Issued; `token` is the secret, shown only here", body = TokenDto),
        (status = 404, description = "No such user", body = ProblemDocument,
            content_type = "application/problem+json"),
        (status = 422, description = "Days or capabilities out of range", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn issue_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<TokenBody>,
) -> Result<Response, ApiError> {
    let user = find_user(&state, &id).await?;
    let capabilities = body
        .capabilities
        .iter()
        .map(|name| {
            Capability::parse(name).ok_or_else(|| {
                ApiError::bad_parameter(
                    "capabilities",
                    text!("{name:?} is not a capability", "{name:?} 不是有效的权限"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (secret, credential) = state
        .accounts()
        .issue_token(
            user.id,
            &body.label,
            body.days,
            &capabilities,
            &caller.actor(),
        )
        .await
        .map_err(account_error)?;
    let dto = TokenDto {
        token: Some(secret),
        ..TokenDto::from(&credential)
    };
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(dto),
    )
        .into_response())
}

/// `DELETE /api/users/{id}/tokens/{token_id}`.
#[utoipa::path(delete, path = "/api/users/{id}/tokens/{token_id}", tag = "accounts",
    params(("id" = i64, Path, description = "The user's number"),
        ("token_id" = i64, Path, description = "The token's number")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such user or live token", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn revoke_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((id, token)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let user = find_user(&state, &id).await?;
    let token: i64 = token.parse().map_err(|_| {
        let user = user.id;
        ApiError::NotFound(text!(
            "user {user} has no token {token:?}",
            "用户 {user} 没有编号为 {token:?} 的令牌"
        ))
    })?;
    state
        .accounts()
        .revoke_token(user.id, token, &caller.actor())
        .await
        .map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditParams {
    /// Only this login's entries.
    actor: Option<String>,
    /// Only this action's: login, login_failed, logout, user_created,
    /// user_changed, token_issued, token_revoked.
    action: Option<String>,
    /// Entries numbered below this (the previous page's `next`).
    before: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `json` (default) or `csv` (an export).
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
}

/// A page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    entries: Vec<AuditEntry>,
    /// Pass as `before` for the next page; absent on the last.
    next: Option<i64>,
}

/// `GET /api/audit`: the audit trail, newest first (JSON or CSV).
#[utoipa::path(get, path = "/api/audit", tag = "accounts", params(AuditParams),
    responses(
        (status = 200, description = "A page of entries, or with `format=csv` the page as CSV",
            content((AuditPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong", body = ProblemDocument,
            content_type = "application/problem+json"),
    ))]
async fn audit(
    State(state): State<Arc<AppState>>,
    Query(params): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::bad_parameter(
            "limit",
            text!(
                "limit must be 1 to {MAX_AUDIT_PAGE}",
                "limit 必须在 1 至 {MAX_AUDIT_PAGE} 之间"
            ),
        ));
    }
    let filter = AuditFilter {
        actor: params.actor,
        action: params.action,
        before: params.before,
        limit,
    };
    let entries = state
        .accounts()
        .audit(&filter)
        .await
        .map_err(|e| ApiError::internal("reading the audit trail", e))?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    match params.format.as_deref() {
        None | Some("json") => Ok(axum::Json(AuditPage { entries, next }).into_response()),
        Some("csv") => {
            let mut out = csv::Writer::from_writer(Vec::new());
            let write = |out: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
                out.write_record(["id", "at", "actor", "source", "action", "target", "detail"])?;
                for e in &entries {
                    out.write_record([
                        e.id.to_string(),
                        e.at.to_string(),
                        inert(&e.actor),
                        inert(&e.source),
                        inert(&e.action),
                        inert(&e.target),
                        inert(&e.detail),
                    ])?;
                }
                out.flush()?;
                Ok(())
            };
            write(&mut out).map_err(|e| ApiError::internal("writing the audit CSV", e))?;
            let bytes = out
                .into_inner()
                .map_err(|e| ApiError::internal("writing the audit CSV", e.into_error()))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"audit.csv\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::bad_parameter(
            "format",
            text!(
                "format must be json or csv, not {other:?}",
                "format 必须是 json 或 csv，收到的是 {other:?}"
            ),
        )),
    }
}

/// A CSV cell a spreadsheet will not run: text that starts like a formula
/// (a failed login records whatever name was typed) gets a leading `'`.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

async fn find_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    let missing = || {
        ApiError::NotFound(text!(
            "there is no user {id:?}",
            "未找到编号为 {id:?} 的用户"
        ))
    };
    let id: i64 = id.parse().map_err(|_| missing())?;
    state
        .accounts()
        .user(UserId(id))
        .await
        .map_err(|e| ApiError::internal("reading a user", e))?
        .ok_or_else(missing)
}

fn parse_role(name: &str) -> Result<Role, ApiError> {
    Role::parse(name).ok_or_else(|| {
        let roles = Role::ALL.map(Role::as_str).join(", ");
        ApiError::bad_parameter(
            "role",
            text!(
                "{name:?} is not a role; one of {roles}",
                "{name:?} 不是有效的角色，可选：{roles}"
            ),
        )
    })
}

fn parse_scope(state: &AppState, text: &str) -> Result<Scope, ApiError> {
    let scope = Scope::decode(text).ok_or_else(|| {
        ApiError::bad_parameter(
            "scope",
            text!(
                "{text:?} is not a scope: county, grid:ID or department:NAME",
                "{text:?} 不是有效的范围，应为 county、grid:ID 或 department:NAME"
            ),
        )
    })?;
    if let Scope::Grid(id) = &scope
        && state.index().get(id).is_none()
    {
        return Err(ApiError::bad_parameter(
            "scope",
            text!("there is no grid {id}", "未找到编号为 {id} 的网格"),
        ));
    }
    Ok(scope)
}

fn account_error(e: AccountError) -> ApiError {
    if let Some(conflict) = e.conflict() {
        return ApiError::Conflict(conflict);
    }
    match e {
        AccountError::BadLogin => ApiError::Unauthorized(Text::of(&e)),
        AccountError::Throttled(wait) => ApiError::TooManyRequests {
            detail: Text::of(&e),
            retry_after_secs: wait.as_secs().max(1),
        },
        AccountError::Invalid(_) | AccountError::BadToken(_) => {
            ApiError::UnprocessableEntity(Text::of(&e))
        }
        AccountError::NoUser(_) | AccountError::NoToken { .. } => ApiError::NotFound(Text::of(&e)),
        AccountError::Store(e) => ApiError::internal("changing accounts", e),
    }
}
