//! Who may do what: users, their roles, where their view of the county
//! ends (their scope), the credentials they hold (web sessions and
//! integration tokens) and the audit trail of account events.
//!
//! A role grants [`Capability`]s; a scope limits them to a part of the
//! county. The HTTP layer decides per route which capability it needs
//! (`api/access.rs`); this module only says which roles hold which.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{GridId, Localized};

/// What a user is at the county's governance centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the system: users, tokens, the audit trail, everything else.
    Admin,
    /// Redraws the grid boundaries.
    Planner,
    /// A governance centre: sees and dispatches incidents in its subtree.
    Dispatcher,
    /// Leads a grid: handles its incidents, its hazards and its patrols.
    GridLeader,
    /// Patrols a grid: reports, patrols and checks in.
    GridMember,
    /// A department called on for cases: sees only those.
    Department,
    /// Reads, changes nothing.
    Viewer,
}

impl Role {
    /// Every role, in the order above.
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Planner,
        Role::Dispatcher,
        Role::GridLeader,
        Role::GridMember,
        Role::Department,
        Role::Viewer,
    ];

    /// The name in URLs, JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Dispatcher => "dispatcher",
            Role::GridLeader => "grid_leader",
            Role::GridMember => "grid_member",
            Role::Department => "department",
            Role::Viewer => "viewer",
        }
    }

    /// The role with this name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The role's name in Chinese, for sentences people read (网格长).
    pub fn zh_name(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Planner => "规划员",
            Role::Dispatcher => "调度员",
            Role::GridLeader => "网格长",
            Role::GridMember => "网格员",
            Role::Department => "部门联络员",
            Role::Viewer => "只读用户",
        }
    }

    /// Whether this role holds a capability (inside its scope).
    pub fn may(self, capability: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            Role::Planner => matches!(
                capability,
                SeeGridMap | EditGrids | SeeChanges | SeeIncidents | SeeHazards | SeePatrols
            ),
            Role::Dispatcher => matches!(
                capability,
                SeeGridMap
                    | SeeIncidents
                    | Report
                    | Dispatch
                    | SeeHazards
                    | EditHazards
                    | SeePatrols
            ),
            Role::GridLeader => matches!(
                capability,
                SeeGridMap
                    | SeeIncidents
                    | Report
                    | Dispatch
                    | SeeHazards
                    | EditHazards
                    | Patrol
                    | SeePatrols
            ),
            Role::GridMember => matches!(
                capability,
                SeeGridMap | SeeIncidents | Report | SeeHazards | Patrol | SeePatrols
            ),
            Role::Department => matches!(capability, SeeGridMap | SeeIncidents | Dispatch),
            Role::Viewer => matches!(
                capability,
                SeeGridMap | SeeIncidents | SeeHazards | SeePatrols
            ),
        }
    }

    /// The scopes a user of this role may be bound to: "grid", "department",
    /// "county".
    fn fits(self, scope: &Scope) -> bool {
        match (self, scope) {
            (Role::Admin, Scope::County) => true,
            (Role::Admin, _) => false,
            (Role::GridLeader | Role::GridMember, Scope::Grid(_)) => true,
            (Role::GridLeader | Role::GridMember, _) => false,
            (Role::Department, Scope::Department(_)) => true,
            (Role::Department, _) => false,
            (Role::Planner | Role::Dispatcher | Role::Viewer, Scope::Department(_)) => false,
            (Role::Planner | Role::Dispatcher | Role::Viewer, _) => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a role may do. Each route needs at most one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Grid outlines and labels, locate, the style and grid tiles, the
    /// road network (anonymous readers too, when the county publishes its
    /// grid map).
    SeeGridMap,
    /// Import, edit, schedule, restore and cancel grid changes; replace
    /// the road network.
    EditGrids,
    /// The change feed and the grid versions.
    SeeChanges,
    /// Incidents: lists, single ones, statistics, tiles, events.
    SeeIncidents,
    /// Report an incident; add a note.
    Report,
    /// Act on an incident: accept, assign, escalate, resolve.
    Dispatch,
    /// Hazards, their calendar and coverage.
    SeeHazards,
    /// Register, change and remove hazards.
    EditHazards,
    /// Plan and save routes; start, track, check in on and finish patrols.
    Patrol,
    /// Saved routes and patrols.
    SeePatrols,
    /// Users, their tokens and the audit trail.
    ManageUsers,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 11] = [
        Capability::SeeGridMap,
        Capability::EditGrids,
        Capability::SeeChanges,
        Capability::SeeIncidents,
        Capability::Report,
        Capability::Dispatch,
        Capability::SeeHazards,
        Capability::EditHazards,
        Capability::Patrol,
        Capability::SeePatrols,
        Capability::ManageUsers,
    ];

    /// The capability with this name.
    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::SeeGridMap => "see_grid_map",
            Capability::EditGrids => "edit_grids",
            Capability::SeeChanges => "see_changes",
            Capability::SeeIncidents => "see_incidents",
            Capability::Report => "report",
            Capability::Dispatch => "dispatch",
            Capability::SeeHazards => "see_hazards",
            Capability::EditHazards => "edit_hazards",
            Capability::Patrol => "patrol",
            Capability::SeePatrols => "see_patrols",
            Capability::ManageUsers => "manage_users",
        }
    }
}

/// Where a user's view of the county ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The whole county (admins; county-level centres, planners, viewers).
    County,
    /// A grid and everything under it.
    Grid(GridId),
    /// The cases a department was called on.
    Department(String),
}

impl Scope {
    /// `county`, `grid:ID` or `department:NAME`, as stored and on the CLI.
    pub fn encode(&self) -> String {
        match self {
            Scope::County => "county".to_owned(),
            Scope::Grid(id) => format!("grid:{id}"),
            Scope::Department(name) => format!("department:{name}"),
        }
    }

    /// The scope [`Scope::encode`] wrote.
    pub fn decode(text: &str) -> Option<Scope> {
        if text == "county" {
            return Some(Scope::County);
        }
        if let Some(id) = text.strip_prefix("grid:").filter(|id| !id.is_empty()) {
            return Some(Scope::Grid(GridId::from(id)));
        }
        text.strip_prefix("department:")
            .filter(|name| !name.is_empty())
            .map(|name| Scope::Department(name.to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// A user's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The longest login name, characters.
pub const MAX_LOGIN_CHARS: usize = 64;
/// The longest display name, characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// The shortest password, characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password, bytes (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A user as stored (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its number.
    pub id: UserId,
    /// The login name: letters, digits, `.`, `_`, `-`.
    pub login: String,
    /// The name shown to others (张伟).
    pub display_name: String,
    /// What the user is.
    pub role: Role,
    /// Where their view ends.
    pub scope: Scope,
    /// A disabled user cannot log in and their sessions and tokens stop working.
    pub disabled: bool,
    /// Bumped by every change of the user.
    pub version: i64,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    /// The login name.
    pub login: String,
    /// The name shown to others; the login when empty.
    pub display_name: String,
    /// What the user is.
    pub role: Role,
    /// Where their view ends.
    pub scope: Scope,
}

/// Why a user cannot be created as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// The login is empty, too long or has characters outside the set.
    #[error(
        "login {0:?} must be 1 to {MAX_LOGIN_CHARS} characters of letters, digits, '.', '_' or '-'"
    )]
    BadLogin(String),
    /// The display name is too long or has control characters.
    #[error(
        "display name must be at most {MAX_DISPLAY_NAME_CHARS} characters without control characters"
    )]
    BadDisplayName,
    /// The role cannot have this scope.
    #[error("a {role} cannot be bound to {scope}: {}", Role::scope_rule(*.role))]
    ScopeMismatch {
        /// The role asked for.
        role: Role,
        /// The scope asked for.
        scope: Scope,
    },
    /// The password is too short or too long.
    #[error(
        "a password must be at least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes"
    )]
    BadPassword,
}

impl Role {
    /// What scope this role takes, in words.
    fn scope_rule(self) -> &'static str {
        match self {
            Role::Admin => "an admin sees the whole county (scope \"county\")",
            Role::GridLeader | Role::GridMember => "they are bound to a grid (\"grid:ID\")",
            Role::Department => "a department user is bound to a department (\"department:NAME\")",
            Role::Planner | Role::Dispatcher | Role::Viewer => {
                "they are bound to the county or a grid"
            }
        }
    }

    /// [`Role::scope_rule`] in Chinese.
    fn scope_rule_zh(self) -> &'static str {
        match self {
            Role::Admin => "管理员的范围只能是全县（\"county\"）",
            Role::GridLeader | Role::GridMember => "该角色须绑定到一个网格（\"grid:ID\"）",
            Role::Department => "部门联络员须绑定到一个部门（\"department:NAME\"）",
            Role::Planner | Role::Dispatcher | Role::Viewer => "该角色只能绑定到全县或一个网格",
        }
    }
}

impl Localized for UserError {
    fn zh(&self) -> String {
        match self {
            UserError::BadLogin(login) => format!(
                "登录名 {login:?} 须为 1 至 {MAX_LOGIN_CHARS} 个字符，只能包含字母、数字和 “.”、“_”、“-”"
            ),
            UserError::BadDisplayName => {
                format!("显示名称最多 {MAX_DISPLAY_NAME_CHARS} 个字符，且不能包含控制字符")
            }
            UserError::ScopeMismatch { role, scope } => format!(
                "{}（{role}）不能绑定到范围 {scope}：{}",
                role.zh_name(),
                role.scope_rule_zh()
            ),
            UserError::BadPassword => {
                format!("密码至少 {MIN_PASSWORD_CHARS} 个字符，最多 {MAX_PASSWORD_BYTES} 字节")
            }
        }
    }
}

impl UserDraft {
    /// Check the names and that the role fits the scope; the display name
    /// defaults to the login.
    pub fn checked(mut self) -> Result<UserDraft, UserError> {
        let login_ok = !self.login.is_empty()
            && self.login.chars().count() <= MAX_LOGIN_CHARS
            && self
                .login
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !login_ok {
            return Err(UserError::BadLogin(self.login));
        }
        if self.display_name.chars().count() > MAX_DISPLAY_NAME_CHARS
            || self.display_name.chars().any(char::is_control)
        {
            return Err(UserError::BadDisplayName);
        }
        if self.display_name.trim().is_empty() {
            self.display_name = self.login.clone();
        }
        if !self.role.fits(&self.scope) {
            return Err(UserError::ScopeMismatch {
                role: self.role,
                scope: self.scope,
            });
        }
        Ok(self)
    }
}

/// Check a new password's length.
pub fn check_password(password: &str) -> Result<(), UserError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::BadPassword);
    }
    Ok(())
}

/// What a credential is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A web map session (a cookie); writes need its CSRF token.
    Session,
    /// A bearer token (or Open311 `api_key`) for an integration.
    Token,
}

impl CredentialKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }

    /// The kind with this stored name.
    pub fn parse(name: &str) -> Option<CredentialKind> {
        match name {
            "session" => Some(CredentialKind::Session),
            "token" => Some(CredentialKind::Token),
            _ => None,
        }
    }
}

/// A credential as stored: only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The credential's number (shown in token lists; not secret).
    pub id: i64,
    /// Whose it is.
    pub user: UserId,
    /// Session or token.
    pub kind: CredentialKind,
    /// What a token may be used for, as capabilities' names; empty means
    /// everything the user's role allows (sessions are always empty).
    pub scopes: Vec<String>,
    /// A label the user gave a token ("open311 kiosk").
    pub label: String,
    /// When it was issued.
    pub created_at: jiff::Timestamp,
    /// When it stops working.
    pub expires_at: jiff::Timestamp,
    /// When it was revoked (logout, `user disable`), if it was.
    pub revoked_at: Option<jiff::Timestamp>,
}

/// One entry of the audit trail: who did what, when, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its number, in the order recorded.
    pub id: i64,
    /// When (RFC 3339 in JSON).
    pub at: jiff::Timestamp,
    /// The login of who did it (or tried to: a failed login records the
    /// name given).
    pub actor: String,
    /// Where the request came from (the peer address, or the configured
    /// proxy's `X-Forwarded-For`); empty for the command line.
    pub source: String,
    /// What happened: `login`, `login_failed`, `logout`, `user_created`,
    /// `user_changed`, `token_issued`, `token_revoked`.
    pub action: String,
    /// What it was done to: `user 7`, `token 12`.
    pub target: String,
    /// Anything else worth keeping, in words.
    pub detail: String,
}

/// An audit entry to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// When.
    pub at: jiff::Timestamp,
    /// Who.
    pub actor: String,
    /// From where.
    pub source: String,
    /// What happened.
    pub action: &'static str,
    /// To what.
    pub target: String,
    /// In words.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for scope in [
            Scope::County,
            Scope::Grid(GridId::from("g-3")),
            Scope::Department("水务局".into()),
        ] {
            assert_eq!(Scope::decode(&scope.encode()), Some(scope));
        }
        assert_eq!(Scope::decode("grid:"), None);
        assert_eq!(Scope::decode("town"), None);
    }

    #[test]
    fn a_role_takes_only_the_scopes_it_fits() {
        let draft = |role, scope| UserDraft {
            login: "li.wei".into(),
            display_name: String::new(),
            role,
            scope,
        };
        let grid = Scope::Grid(GridId::from("g"));
        assert!(draft(Role::GridLeader, grid.clone()).checked().is_ok());
        assert!(matches!(
            draft(Role::GridLeader, Scope::County).checked(),
            Err(UserError::ScopeMismatch { .. })
        ));
        assert!(draft(Role::Admin, grid).checked().is_err());
        assert!(
            draft(Role::Department, Scope::Department("x".into()))
                .checked()
                .is_ok()
        );
        let ok = draft(Role::Viewer, Scope::County).checked().expect("fits");
        assert_eq!(ok.display_name, "li.wei", "the login stands in for a name");
        assert!(matches!(
            UserDraft {
                login: "a b".into(),
                ..draft(Role::Viewer, Scope::County)
            }
            .checked(),
            Err(UserError::BadLogin(_))
        ));
    }

    #[test]
    fn only_admins_manage_users_and_viewers_change_nothing() {
        for role in Role::ALL {
            assert_eq!(role.may(Capability::ManageUsers), role == Role::Admin);
        }
        for change in [
            Capability::EditGrids,
            Capability::Report,
            Capability::Dispatch,
            Capability::EditHazards,
            Capability::Patrol,
        ] {
            assert!(!Role::Viewer.may(change), "{change:?}");
        }
    }
}
