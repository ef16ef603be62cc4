//! The account half of the store: users, their credentials (web sessions
//! and bearer tokens, kept as SHA-256 hashes of their secrets) and the
//! append-only audit trail. The SQL is written once for both backends
//! (`account_sql.rs`).
//!
//! Sessions live in the database rather than in one process's memory so
//! that every replica accepts them and a logout or `user disable` ends
//! them everywhere.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::model::account::{
    AuditEntry, Credential, CredentialKind, NewAudit, User, UserDraft, UserId,
};
use crate::store::StoreError;

/// Which audit entries to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor's.
    pub actor: Option<String>,
    /// Only this action's.
    pub action: Option<String>,
    /// Only entries numbered below this (the previous page's last id).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// A credential to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The SHA-256 of its secret, hex.
    pub secret_hash: String,
    /// Whose.
    pub user: UserId,
    /// Session or token.
    pub kind: CredentialKind,
    /// Capability names it is limited to (empty: all the role allows).
    pub scopes: Vec<String>,
    /// A label.
    pub label: String,
    /// Issued at.
    pub created_at: Timestamp,
    /// Stops working at.
    pub expires_at: Timestamp,
}

/// What a backend must read for accounts.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Every user, by id.
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    /// One user.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// A user by login, with their password hash (for logging in).
    async fn user_for_login(&self, login: &str) -> Result<Option<(User, String)>, StoreError>;

    /// The credential whose secret hashes to `secret_hash`, with its user,
    /// whether or not it is still valid (the caller checks).
    async fn credential(&self, secret_hash: &str)
    -> Result<Option<(Credential, User)>, StoreError>;

    /// A user's tokens (not sessions), newest first.
    async fn tokens_of(&self, user: UserId) -> Result<Vec<Credential>, StoreError>;

    /// Audit entries, newest first.
    async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
}

/// The account writes of a unit of work.
#[async_trait]
pub trait AccountWrites: Send {
    /// Create a user; [`StoreError::InUse`] when the login is taken.
    async fn create_user(
        &mut self,
        draft: &UserDraft,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<User, StoreError>;

    /// Change a user's role, scope, display name or disabled flag, at the
    /// version it was read at ([`StoreError::Stale`] otherwise).
    async fn update_user(&mut self, user: &User, read_at: i64) -> Result<User, StoreError>;

    /// Set a user's password hash.
    async fn set_password(&mut self, user: UserId, password_hash: &str) -> Result<(), StoreError>;

    /// Issue a credential; answers its id.
    async fn issue_credential(&mut self, credential: &NewCredential) -> Result<i64, StoreError>;

    /// Revoke one credential of a user (false when there is no such live one).
    async fn revoke_credential(
        &mut self,
        user: UserId,
        id: i64,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Revoke the credential with this secret hash (logout).
    async fn revoke_secret(&mut self, secret_hash: &str, at: Timestamp)
    -> Result<bool, StoreError>;

    /// Revoke every live credential of a user (disable); answers how many.
    async fn revoke_all(&mut self, user: UserId, at: Timestamp) -> Result<u64, StoreError>;

    /// Append to the audit trail.
    async fn record_audit(&mut self, entry: &NewAudit) -> Result<(), StoreError>;
}
