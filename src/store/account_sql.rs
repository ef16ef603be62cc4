//! The SQL of [`AccountStore`](super::accounts::AccountStore) and
//! [`AccountWrites`](super::accounts::AccountWrites), written once and
//! expanded per backend like `patrol_sql.rs`: the statements are identical
//! standard SQL; only the sqlx database type differs.

use crate::model::account::{AuditEntry, Credential, CredentialKind, Role, Scope, User, UserId};
use crate::store::StoreError;

/// The user columns, in the order of [`UserRow`].
pub(crate) const USER_COLUMNS: &str = "id, login, display_name, role, scope, disabled, version";

/// A user as read: id, login, display name, role, scope, disabled, version.
pub(crate) type UserRow = (i64, String, String, String, String, i64, i64);

/// The credential columns, in the order of [`CredentialRow`].
pub(crate) const CREDENTIAL_COLUMNS: &str =
    "id, user_id, kind, scopes, label, created_at, expires_at, revoked_at";

/// A credential as read.
pub(crate) type CredentialRow = (i64, i64, String, String, String, i64, i64, Option<i64>);

/// An audit entry as read.
pub(crate) type AuditRow = (i64, i64, String, String, String, String, String);

/// A stored user, checked.
pub(crate) fn user_from(row: UserRow) -> Result<User, StoreError> {
    let (id, login, display_name, role, scope, disabled, version) = row;
    let corrupt = |reason: String| StoreError::Corrupt {
        id: format!("user {id}"),
        reason,
    };
    Ok(User {
        id: UserId(id),
        login,
        display_name,
        role: Role::parse(&role).ok_or_else(|| corrupt(format!("unknown role {role:?}")))?,
        scope: Scope::decode(&scope).ok_or_else(|| corrupt(format!("unknown scope {scope:?}")))?,
        disabled: disabled != 0,
        version,
    })
}

/// A stored credential, checked.
pub(crate) fn credential_from(row: CredentialRow) -> Result<Credential, StoreError> {
    let (id, user, kind, scopes, label, created_at, expires_at, revoked_at) = row;
    let corrupt = |reason: String| StoreError::Corrupt {
        id: format!("credential {id}"),
        reason,
    };
    let time = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map_err(|_| corrupt(format!("time {ms} out of range")))
    };
    Ok(Credential {
        id,
        user: UserId(user),
        kind: CredentialKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("unknown kind {kind:?}")))?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| corrupt(format!("scopes do not decode: {e}")))?,
        label,
        created_at: time(created_at)?,
        expires_at: time(expires_at)?,
        revoked_at: revoked_at.map(time).transpose()?,
    })
}

/// A stored audit entry.
pub(crate) fn audit_from(row: AuditRow) -> AuditEntry {
    let (id, at, actor, source, action, target, detail) = row;
    AuditEntry {
        id,
        at: jiff::Timestamp::from_millisecond(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        actor,
        source,
        action,
        target,
        detail,
    }
}

/// Implement `AccountStore` for a store with a `pool` field and
/// `AccountWrites` for its unit (a `tx` field), over sqlx database `$db`.
macro_rules! impl_account_store {
    ($store:ty, $unit:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::accounts::AccountStore for $store {
            async fn users(
                &self,
            ) -> Result<Vec<$crate::model::account::User>, $crate::store::StoreError> {
                use $crate::store::account_sql::{USER_COLUMNS, UserRow, user_from};
                sqlx::query_as::<$db, UserRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users ORDER BY id"
                )))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading users"))?
                .into_iter()
                .map(user_from)
                .collect()
            }

            async fn user(
                &self,
                id: $crate::model::account::UserId,
            ) -> Result<Option<$crate::model::account::User>, $crate::store::StoreError> {
                use $crate::store::account_sql::{USER_COLUMNS, UserRow, user_from};
                sqlx::query_as::<$db, UserRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
                )))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading a user"))?
                .map(user_from)
                .transpose()
            }

            async fn user_for_login(
                &self,
                login: &str,
            ) -> Result<Option<($crate::model::account::User, String)>, $crate::store::StoreError>
            {
                use $crate::store::account_sql::{USER_COLUMNS, UserRow, user_from};
                let row = sqlx::query_as::<$db, (String,)>(
                    "SELECT password_hash FROM users WHERE login = $1",
                )
                .bind(login)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading a login"))?;
                let Some((hash,)) = row else {
                    return Ok(None);
                };
                let user = sqlx::query_as::<$db, UserRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE login = $1"
                )))
                .bind(login)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading a login"))?;
                user.map(|u| user_from(u).map(|u| (u, hash))).transpose()
            }

            async fn credential(
                &self,
                secret_hash: &str,
            ) -> Result<
                Option<($crate::model::account::Credential, $crate::model::account::User)>,
                $crate::store::StoreError,
            > {
                use $crate::store::account_sql::{
                    CREDENTIAL_COLUMNS, CredentialRow, credential_from,
                };
                let row = sqlx::query_as::<$db, CredentialRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE secret_hash = $1"
                )))
                .bind(secret_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading a credential"))?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let credential = credential_from(row)?;
                let user = self.user(credential.user).await?.ok_or_else(|| {
                    $crate::store::StoreError::Corrupt {
                        id: format!("credential {}", credential.id),
                        reason: "its user is gone".into(),
                    }
                })?;
                Ok(Some((credential, user)))
            }

            async fn tokens_of(
                &self,
                user: $crate::model::account::UserId,
            ) -> Result<Vec<$crate::model::account::Credential>, $crate::store::StoreError> {
                use $crate::store::account_sql::{
                    CREDENTIAL_COLUMNS, CredentialRow, credential_from,
                };
                sqlx::query_as::<$db, CredentialRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials \
                     WHERE user_id = $1 AND kind = 'token' ORDER BY id DESC"
                )))
                .bind(user.0)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::incident_sql::failed("reading tokens"))?
                .into_iter()
                .map(credential_from)
                .collect()
            }

            async fn audit(
                &self,
                filter: &$crate::store::accounts::AuditFilter,
            ) -> Result<Vec<$crate::model::account::AuditEntry>, $crate::store::StoreError> {
                use $crate::store::account_sql::{AuditRow, audit_from};
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, at, actor, source, action, target, detail FROM audit WHERE 1 = 1",
                );
                if let Some(actor) = &filter.actor {
                    query.push(" AND actor = ").push_bind(actor.clone());
                }
                if let Some(action) = &filter.action {
                    query.push(" AND action = ").push_bind(action.clone());
                }
                if let Some(before) = filter.before {
                    query.push(" AND id < ").push_bind(before);
                }
                query
                    .push(" ORDER BY id DESC LIMIT ")
                    .push_bind(i64::from(filter.limit));
                Ok(query
                    .build_query_as::<AuditRow>()
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::incident_sql::failed("reading the audit trail"))?
                    .into_iter()
                    .map(audit_from)
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::accounts::AccountWrites for $unit {
            async fn create_user(
                &mut self,
                draft: &$crate::model::account::UserDraft,
                password_hash: &str,
                at: jiff::Timestamp,
            ) -> Result<$crate::model::account::User, $crate::store::StoreError> {
                use $crate::store::account_sql::{USER_COLUMNS, UserRow, user_from};
                let taken = sqlx::query_as::<$db, (i64,)>("SELECT id FROM users WHERE login = $1")
                    .bind(&draft.login)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err($crate::store::incident_sql::failed("checking a login"))?;
                if taken.is_some() {
                    return Err($crate::store::StoreError::InUse(
                        $crate::store::login_taken(&draft.login),
                    ));
                }
                let row = sqlx::query_as::<$db, UserRow>(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO users (login, display_name, role, scope, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
                )))
                .bind(&draft.login)
                .bind(&draft.display_name)
                .bind(draft.role.as_str())
                .bind(draft.scope.encode())
                .bind(password_hash)
                .bind(at.as_millisecond())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(|e| match e.as_database_error() {
                    // Another transaction took the login meanwhile.
                    Some(db) if db.is_unique_violation() => {
                        $crate::store::StoreError::InUse($crate::store::login_taken(&draft.login))
                    }
                    _ => $crate::store::StoreError::Database {
                        action: "creating a user".into(),
                        source: e,
                    },
                })?;
                user_from(row)
            }

            async fn update_user(
                &mut self,
                user: &$crate::model::account::User,
                read_at: i64,
            ) -> Result<$crate::model::account::User, $crate::store::StoreError> {
                use $crate::store::account_sql::{USER_COLUMNS, UserRow, user_from};
                let row = sqlx::query_as::<$db, UserRow>(sqlx::AssertSqlSafe(format!(
                    "UPDATE users SET display_name = $1, role = $2, scope = $3, disabled = $4, \
                     version = version + 1 WHERE id = $5 AND version = $6 RETURNING {USER_COLUMNS}"
                )))
                .bind(&user.display_name)
                .bind(user.role.as_str())
                .bind(user.scope.encode())
                .bind(i64::from(user.disabled))
                .bind(user.id.0)
                .bind(read_at)
                .fetch_optional(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("changing a user"))?;
                match row {
                    Some(row) => user_from(row),
                    None => Err($crate::store::StoreError::Stale {
                        what: format!("user {}", user.id),
                        version: read_at,
                    }),
                }
            }

            async fn set_password(
                &mut self,
                user: $crate::model::account::UserId,
                password_hash: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query::<$db>(
                    "UPDATE users SET password_hash = $1, version = version + 1 WHERE id = $2",
                )
                .bind(password_hash)
                .bind(user.0)
                .execute(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("setting a password"))?;
                Ok(())
            }

            async fn issue_credential(
                &mut self,
                c: &$crate::store::accounts::NewCredential,
            ) -> Result<i64, $crate::store::StoreError> {
                let scopes = serde_json::to_string(&c.scopes).unwrap_or_else(|_| "[]".into());
                let (id,) = sqlx::query_as::<$db, (i64,)>(
                    "INSERT INTO credentials \
                     (secret_hash, user_id, kind, scopes, label, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&c.secret_hash)
                .bind(c.user.0)
                .bind(c.kind.as_str())
                .bind(scopes)
                .bind(&c.label)
                .bind(c.created_at.as_millisecond())
                .bind(c.expires_at.as_millisecond())
                .fetch_one(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("issuing a credential"))?;
                Ok(id)
            }

            async fn revoke_credential(
                &mut self,
                user: $crate::model::account::UserId,
                id: i64,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE credentials SET revoked_at = $1 \
                     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(id)
                .bind(user.0)
                .execute(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("revoking a credential"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_secret(
                &mut self,
                secret_hash: &str,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE credentials SET revoked_at = $1 \
                     WHERE secret_hash = $2 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(secret_hash)
                .execute(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("ending a session"))?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_all(
                &mut self,
                user: $crate::model::account::UserId,
                at: jiff::Timestamp,
            ) -> Result<u64, $crate::store::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE credentials SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(user.0)
                .execute(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("revoking credentials"))?;
                Ok(done.rows_affected())
            }

            async fn record_audit(
                &mut self,
                e: &$crate::model::account::NewAudit,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO audit (at, actor, source, action, target, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(e.at.as_millisecond())
                .bind(&e.actor)
                .bind(&e.source)
                .bind(e.action)
                .bind(&e.target)
                .bind(&e.detail)
                .execute(&mut *self.tx)
                .await
                .map_err($crate::store::incident_sql::failed("recording an audit entry"))?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_account_store;
