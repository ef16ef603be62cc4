//! Accounts: logging in and out, checking a session cookie or bearer token
//! on every request, users and their tokens, and the audit trail of all of
//! it.
//!
//! Credentials are random 256-bit secrets; the store keeps only their
//! SHA-256 (a copy of the database opens no door). Passwords are argon2id
//! PHC strings, hashed and verified off the async runtime. Each account
//! change writes its audit entry in the same transaction.
//!
//! Checking a credential is on every request's path, so a valid one is
//! remembered in memory for [`RECHECK_AFTER`]: a logout, a revoked token or
//! a disabled user takes effect at once in the process that made the
//! change, and within that time in other processes.
//!
//! Why not `tower-sessions`/`axum-login`: their SQL stores bring a second
//! sqlx (and SQLite library) into the build, and a session here must share
//! a transaction with its audit entry and live beside the bearer tokens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

use crate::model::account::{
    AuditEntry, Capability, Credential, CredentialKind, NewAudit, Role, Scope, User, UserDraft,
    UserError, UserId, check_password,
};
use crate::model::{Localized, Text};
pub use crate::store::AuditFilter;
use crate::store::{NewCredential, Store, StoreError};
use crate::text;

/// How long a web session lasts from login.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);

/// The longest a token may be issued for.
pub const MAX_TOKEN_DAYS: i64 = 366;

/// How long a checked credential is trusted without asking the store again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(10);

/// Failed logins allowed per login name, and per client address, in one
/// [`THROTTLE_WINDOW`]; past them every login is refused until the window
/// ends (a guessed password included).
pub const FAILURES_PER_LOGIN: u32 = 5;
/// See [`FAILURES_PER_LOGIN`]: per client address (a proxy or a shared
/// office address covers many people, hence more).
pub const FAILURES_PER_SOURCE: u32 = 30;
/// The window failed logins are counted in.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Credentials remembered at most; past this the memory is cleared (every
/// holder is asked for again once, from the store).
const MAX_REMEMBERED: usize = 100_000;

/// The prefix of a session secret (in the cookie).
const SESSION_PREFIX: &str = "wgs_";
/// The prefix of a token secret.
const TOKEN_PREFIX: &str = "wgt_";

/// How the server decides who may read what without logging in, and whom
/// to believe about the client's address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSettings {
    /// The grid map (outlines, labels, locate, the style, the road
    /// network, the OGC grid collections) is open to anonymous readers.
    pub public_grid_map: bool,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Session cookies without `Secure`, for a trial over plain HTTP on a
    /// local network: browsers refuse a `Secure` cookie over `http://`
    /// anywhere but `localhost`, so without this nobody could log in
    /// there. Off by default; behind TLS it stays off.
    pub plain_http_sessions: bool,
    /// Web origins (`https://gis.example.cn`, or `*` for any) whose pages
    /// may read the public read-only layers (OGC API, tiles, the style,
    /// the API description, Open311 discovery and services) across
    /// origins. Empty: none. Writes are never opened.
    pub cors_origins: Vec<String>,
}

impl AccessSettings {
    /// Whether a page of this origin may read the read-only layers.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.cors_origins.iter().any(|o| o == "*" || o == origin)
    }
}

/// Who is asking, as a checked credential says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// How they proved it.
    pub kind: CredentialKind,
    /// The credential's number.
    pub credential: i64,
    /// A token limited to some capabilities: those; `None` for all the
    /// role allows.
    pub limited_to: Option<Vec<Capability>>,
    /// When the credential stops working.
    pub expires_at: Timestamp,
}

impl Principal {
    /// Whether this principal holds a capability: the role grants it and a
    /// limited token includes it.
    pub fn may(&self, capability: Capability) -> bool {
        self.user.role.may(capability)
            && self
                .limited_to
                .as_ref()
                .is_none_or(|limited| limited.contains(&capability))
    }
}

/// Who made a change and from where, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// The login (or `cli`).
    pub login: String,
    /// The client's address; empty on the command line.
    pub source: String,
}

/// Why a login, a user change or a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong login or password, or a disabled user (never said which).
    #[error("the login or the password is wrong")]
    BadLogin,
    /// The user as asked breaks a rule.
    #[error(transparent)]
    Invalid(#[from] UserError),
    /// No such user.
    #[error("there is no user {0}")]
    NoUser(String),
    /// No such live token.
    #[error("user {user} has no live token {token}")]
    NoToken {
        /// Whose.
        user: UserId,
        /// Which.
        token: i64,
    },
    /// Too many failed logins for this name or from this address: try
    /// again after the given time.
    #[error("too many failed logins; try again in {} s", .0.as_secs())]
    Throttled(Duration),
    /// A token's lifetime or capabilities are out of range.
    #[error("{0}")]
    BadToken(Text),
    /// The store failed or refused (a taken login is `InUse`, a stale
    /// version `Stale`).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    /// The sentence of a change that conflicts with the stored state (a
    /// taken login, a user changed since it was read), if it is one.
    pub fn conflict(&self) -> Option<Text> {
        match self {
            AccountError::Store(e @ (StoreError::InUse(_) | StoreError::Stale { .. })) => {
                Some(Text::of(e))
            }
            _ => None,
        }
    }
}

impl Localized for AccountError {
    fn zh(&self) -> String {
        match self {
            AccountError::BadLogin => "登录名或密码错误".to_owned(),
            AccountError::Invalid(e) => e.zh(),
            AccountError::NoUser(user) => format!("未找到编号为 {user} 的用户"),
            AccountError::NoToken { user, token } => {
                format!("用户 {user} 没有编号为 {token} 的有效令牌")
            }
            AccountError::Throttled(wait) => {
                format!("登录失败次数过多，请 {} 秒后再试", wait.as_secs())
            }
            AccountError::BadToken(text) => text.zh().to_owned(),
            // Only a conflict is ever shown; other store failures are
            // logged, and the caller sees a server error.
            AccountError::Store(_) => self
                .conflict()
                .map_or_else(|| "数据库操作失败".to_owned(), |t| t.zh().to_owned()),
        }
    }
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New scope.
    pub scope: Option<Scope>,
    /// Disable (true) or enable (false).
    pub disabled: Option<bool>,
    /// New password.
    pub password: Option<String>,
}

/// A remembered credential check.
struct Remembered {
    principal: Principal,
    checked: Instant,
}

/// The account service.
pub struct Accounts {
    store: Arc<dyn Store>,
    /// Checked credentials by secret hash.
    remembered: RwLock<HashMap<String, Remembered>>,
    /// Bumped by every forgetting: a check that read the store before a
    /// revocation committed must not remember what it read.
    generation: std::sync::atomic::AtomicU64,
    /// Failed logins by `login:NAME` and `from:ADDRESS`: how many, since when.
    failures: std::sync::Mutex<HashMap<String, (u32, Instant)>>,
}

/// A hash to verify against when a login names no user, so that the answer
/// takes as long as for a wrong password (made once, on first use).
static DECOY: LazyLock<String> = LazyLock::new(|| {
    // Hashing a fixed-length ASCII secret with the default parameters
    // cannot fail; if it ever did, an empty decoy would answer at once and
    // tell which logins exist, so stop instead.
    #[allow(clippy::expect_used)]
    hash_password(&new_secret("")).expect("argon2 hashes a 64-character secret")
});

impl Accounts {
    /// The service over a store.
    pub fn new(store: Arc<dyn Store>) -> Accounts {
        Accounts {
            store,
            remembered: RwLock::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            failures: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The principal a session cookie or bearer token stands for, or
    /// `None` when it is unknown, expired, revoked or its user disabled.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        let hash = secret_hash(secret);
        let now = Timestamp::now();
        if let Some(known) = self.recall(&hash, now) {
            return Ok(Some(known));
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let Some((credential, user)) = self.store.credential(&hash).await? else {
            return Ok(None);
        };
        if credential.revoked_at.is_some() || credential.expires_at <= now || user.disabled {
            self.forget(&hash);
            return Ok(None);
        }
        let principal = principal_of(credential, user);
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            self.remember(hash, principal.clone());
        }
        Ok(Some(principal))
    }

    /// The remembered principal for a hash, if checked recently and not expired.
    fn recall(&self, hash: &str, now: Timestamp) -> Option<Principal> {
        let remembered = self.remembered.read().unwrap_or_else(|p| p.into_inner());
        let known = remembered.get(hash)?;
        (known.checked.elapsed() < RECHECK_AFTER && known.principal.expires_at > now)
            .then(|| known.principal.clone())
    }

    fn remember(&self, hash: String, principal: Principal) {
        let mut remembered = self.remembered.write().unwrap_or_else(|p| p.into_inner());
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(
            hash,
            Remembered {
                principal,
                checked: Instant::now(),
            },
        );
    }

    fn forget(&self, hash: &str) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.remembered
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(hash);
    }

    /// Forget every remembered credential of a user (after a change to
    /// them or their tokens).
    fn forget_user(&self, user: UserId) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.remembered
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, r| r.principal.user.id != user);
    }

    /// Log in: check the password and open a session. Answers the session
    /// secret (for the cookie) and who it is. A failure records
    /// `login_failed` with the name given; nothing says whether the user
    /// exists.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        source: &str,
    ) -> Result<(String, Principal), AccountError> {
        let keys = [
            (format!("login:{login}"), FAILURES_PER_LOGIN),
            (format!("from:{source}"), FAILURES_PER_SOURCE),
        ];
        if let Some(wait) = self.throttled(&keys) {
            self.record_failed_login(login, source, "refused unchecked: too many failed logins")
                .await?;
            return Err(AccountError::Throttled(wait));
        }
        let found = self.store.user_for_login(login).await?;
        let stored = found.as_ref().map(|(_, hash)| hash.clone());
        let verified = verify_password(password.to_owned(), stored).await;
        let user = match found {
            Some((user, _)) if verified && !user.disabled => user,
            _ => {
                self.count_failure(&keys);
                self.record_failed_login(login, source, "").await?;
                return Err(AccountError::BadLogin);
            }
        };
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&keys[0].0);
        let secret = new_secret(SESSION_PREFIX);
        let now = Timestamp::now();
        let expires_at = now + SESSION_LIFETIME;
        let mut unit = self.store.begin().await?;
        let id = unit
            .issue_credential(&NewCredential {
                secret_hash: secret_hash(&secret),
                user: user.id,
                kind: CredentialKind::Session,
                scopes: Vec::new(),
                label: String::new(),
                created_at: now,
                expires_at,
            })
            .await?;
        unit.record_audit(&audit(
            &Actor {
                login: user.login.clone(),
                source: source.to_owned(),
            },
            "login",
            format!("session {id}"),
            String::new(),
        ))
        .await?;
        unit.commit().await?;
        let principal = Principal {
            user,
            kind: CredentialKind::Session,
            credential: id,
            limited_to: None,
            expires_at,
        };
        Ok((secret, principal))
    }

    /// Record a failed login under the name given (cut to 100 characters:
    /// it is whatever was typed).
    async fn record_failed_login(
        &self,
        login: &str,
        source: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut unit = self.store.begin().await?;
        unit.record_audit(&audit(
            &Actor {
                login: truncate(login, 100),
                source: source.to_owned(),
            },
            "login_failed",
            String::new(),
            detail.to_owned(),
        ))
        .await?;
        unit.commit().await
    }

    /// How long until a login under any of `keys` may be tried again, if
    /// one of them has used up its failures.
    fn throttled(&self, keys: &[(String, u32)]) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|(key, allowed)| {
                let (count, since) = failures.get(key)?;
                let elapsed = since.elapsed();
                (*count >= *allowed && elapsed < THROTTLE_WINDOW).then(|| THROTTLE_WINDOW - elapsed)
            })
            .max()
    }

    /// Count a failed login under each of `keys`.
    fn count_failure(&self, keys: &[(String, u32)]) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_REMEMBERED {
            // Bounded memory: old windows go first.
            failures.retain(|_, (_, since)| since.elapsed() < THROTTLE_WINDOW);
        }
        for (key, _) in keys {
            let entry = failures.entry(key.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= THROTTLE_WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// End the session a secret opened.
    pub async fn logout(&self, secret: &str, actor: &Actor) -> Result<(), AccountError> {
        let hash = secret_hash(secret);
        let mut unit = self.store.begin().await?;
        if unit.revoke_secret(&hash, Timestamp::now()).await? {
            unit.record_audit(&audit(actor, "logout", String::new(), String::new()))
                .await?;
        }
        unit.commit().await?;
        self.forget(&hash);
        Ok(())
    }

    /// Every user.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.store.users().await
    }

    /// One user.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.store.user(id).await
    }

    /// A user by login.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        Ok(self.store.user_for_login(login).await?.map(|(u, _)| u))
    }

    /// Create a user with a password.
    pub async fn create_user(
        &self,
        draft: UserDraft,
        password: &str,
        actor: &Actor,
    ) -> Result<User, AccountError> {
        let draft = draft.checked()?;
        check_password(password)?;
        let hash = hash_password_blocking(password.to_owned()).await?;
        let mut unit = self.store.begin().await?;
        let user = unit.create_user(&draft, &hash, Timestamp::now()).await?;
        unit.record_audit(&audit(
            actor,
            "user_created",
            format!("user {}", user.id),
            format!("{} as {} in {}", user.login, user.role, user.scope),
        ))
        .await?;
        unit.commit().await?;
        Ok(user)
    }

    /// Change a user at the version it was read at. Disabling revokes
    /// every session and token of theirs.
    pub async fn change_user(
        &self,
        id: UserId,
        change: UserChange,
        read_at: i64,
        actor: &Actor,
    ) -> Result<User, AccountError> {
        let current = self
            .store
            .user(id)
            .await?
            .ok_or_else(|| AccountError::NoUser(id.to_string()))?;
        let draft = UserDraft {
            login: current.login.clone(),
            display_name: change
                .display_name
                .clone()
                .unwrap_or_else(|| current.display_name.clone()),
            role: change.role.unwrap_or(current.role),
            scope: change
                .scope
                .clone()
                .unwrap_or_else(|| current.scope.clone()),
        }
        .checked()?;
        let hash = match &change.password {
            Some(password) => {
                check_password(password)?;
                Some(hash_password_blocking(password.clone()).await?)
            }
            None => None,
        };
        let wanted = User {
            display_name: draft.display_name,
            role: draft.role,
            scope: draft.scope,
            disabled: change.disabled.unwrap_or(current.disabled),
            ..current.clone()
        };
        let now = Timestamp::now();
        let mut unit = self.store.begin().await?;
        let mut changed = unit.update_user(&wanted, read_at).await?;
        if let Some(hash) = &hash {
            unit.set_password(id, hash).await?;
            changed.version += 1;
        }
        let mut said = describe_change(&current, &changed);
        if hash.is_some() {
            said.push("password set".into());
        }
        if changed.disabled || hash.is_some() {
            let revoked = unit.revoke_all(id, now).await?;
            said.push(format!("{revoked} credential(s) revoked"));
        }
        unit.record_audit(&audit(
            actor,
            "user_changed",
            format!("user {id}"),
            said.join("; "),
        ))
        .await?;
        unit.commit().await?;
        self.forget_user(id);
        Ok(changed)
    }

    /// Issue a bearer token for a user, valid for `days`, limited to
    /// `capabilities` (empty: all the role allows). Answers the secret
    /// (shown once) and its record.
    pub async fn issue_token(
        &self,
        user: UserId,
        label: &str,
        days: i64,
        capabilities: &[Capability],
        actor: &Actor,
    ) -> Result<(String, Credential), AccountError> {
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AccountError::BadToken(text!(
                "a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}",
                "令牌有效期须为 1 至 {MAX_TOKEN_DAYS} 天，收到的是 {days} 天"
            )));
        }
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AccountError::BadToken(Text::new(
                "a token's label is at most 100 characters without control characters",
                "令牌标签最多 100 个字符，且不能包含控制字符",
            )));
        }
        let owner = self
            .store
            .user(user)
            .await?
            .ok_or_else(|| AccountError::NoUser(user.to_string()))?;
        if let Some(c) = capabilities.iter().find(|c| !owner.role.may(**c)) {
            let (role, role_zh, capability) = (owner.role, owner.role.zh_name(), c.as_str());
            return Err(AccountError::BadToken(text!(
                "a {role} cannot hold {capability}, so no token of theirs can",
                "{role_zh}（{role}）没有 {capability} 权限，其令牌也不能拥有该权限"
            )));
        }
        let secret = new_secret(TOKEN_PREFIX);
        let now = Timestamp::now();
        let credential = NewCredential {
            secret_hash: secret_hash(&secret),
            user,
            kind: CredentialKind::Token,
            scopes: capabilities.iter().map(|c| c.as_str().to_owned()).collect(),
            label: label.to_owned(),
            created_at: now,
            expires_at: now + SignedDuration::from_hours(24 * days),
        };
        let mut unit = self.store.begin().await?;
        let id = unit.issue_credential(&credential).await?;
        unit.record_audit(&audit(
            actor,
            "token_issued",
            format!("token {id}"),
            format!("for {} ({label}), {days} day(s)", owner.login),
        ))
        .await?;
        unit.commit().await?;
        Ok((
            secret,
            Credential {
                id,
                user,
                kind: CredentialKind::Token,
                scopes: credential.scopes,
                label: credential.label,
                created_at: now,
                expires_at: credential.expires_at,
                revoked_at: None,
            },
        ))
    }

    /// A user's tokens, newest first.
    pub async fn tokens_of(&self, user: UserId) -> Result<Vec<Credential>, StoreError> {
        self.store.tokens_of(user).await
    }

    /// Revoke one of a user's tokens.
    pub async fn revoke_token(
        &self,
        user: UserId,
        token: i64,
        actor: &Actor,
    ) -> Result<(), AccountError> {
        let mut unit = self.store.begin().await?;
        if !unit
            .revoke_credential(user, token, Timestamp::now())
            .await?
        {
            return Err(AccountError::NoToken { user, token });
        }
        unit.record_audit(&audit(
            actor,
            "token_revoked",
            format!("token {token}"),
            format!("of user {user}"),
        ))
        .await?;
        unit.commit().await?;
        self.forget_user(user);
        Ok(())
    }

    /// The audit trail, newest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        // No entry's actor or action holds a NUL character (logins and
        // action names cannot), and PostgreSQL refuses one in a text
        // parameter: such a filter matches nothing, on either backend.
        let impossible = [&filter.actor, &filter.action]
            .into_iter()
            .flatten()
            .any(|text| text.contains('\0'));
        if impossible {
            return Ok(Vec::new());
        }
        self.store.audit(filter).await
    }

    /// On first start (no users at all), create the admin `admin` with
    /// `password`, or with a new random one. Answers the password when it
    /// was made here (to be shown once), `None` when users existed or the
    /// password was given.
    pub async fn ensure_first_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<String>, AccountError> {
        if !self.store.users().await?.is_empty() {
            return Ok(None);
        }
        let made = password.is_none().then(one_time_password);
        let password = password.or(made.as_deref()).unwrap_or_default();
        let draft = UserDraft {
            login: FIRST_ADMIN.into(),
            display_name: "管理员".into(),
            role: Role::Admin,
            scope: Scope::County,
        };
        let actor = Actor {
            login: "first-start".into(),
            source: String::new(),
        };
        match self.create_user(draft, password, &actor).await {
            Ok(_) => Ok(made),
            // Another process created it first.
            Err(AccountError::Store(StoreError::InUse(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The login of the admin created at first start.
pub const FIRST_ADMIN: &str = "admin";

/// The CSRF token of a web session: derived from its secret, so that only
/// a page that was told it (at login, or by `GET /api/session`) can send
/// it, and a page on another site, which the cookie would follow, cannot.
pub fn csrf_token(session_secret: &str) -> String {
    hex(&Sha256::digest(format!("csrf:{session_secret}").as_bytes()))
}

/// The SHA-256 of a secret, hex: what the store keeps.
fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new 256-bit secret with a prefix saying what it is.
fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex(&bytes))
}

/// A password for the first admin: 20 characters from an alphabet without
/// look-alikes (about 110 bits).
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    // Uniform over the alphabet (no modulo bias).
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn hash_password(password: &str) -> Result<String, AccountError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            AccountError::BadToken(text!(
                "the password could not be hashed: {e}",
                "无法计算密码哈希：{e}"
            ))
        })
}

async fn hash_password_blocking(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| {
            AccountError::BadToken(text!("hashing stopped: {e}", "密码哈希计算中断：{e}"))
        })?
}

/// Whether `password` matches a PHC string (false for a malformed one);
/// with none, it is checked against the decoy and false.
async fn verify_password(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| DECOY.clone());
        let matches = PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
        real && matches
    })
    .await
    .unwrap_or(false)
}

fn principal_of(credential: Credential, user: User) -> Principal {
    // A scope this version does not know grants nothing (a token limited
    // to only such scopes is good for nothing, not for everything).
    let limited_to = (!credential.scopes.is_empty()).then(|| {
        credential
            .scopes
            .iter()
            .filter_map(|name| Capability::parse(name))
            .collect()
    });
    Principal {
        user,
        kind: credential.kind,
        credential: credential.id,
        limited_to,
        expires_at: credential.expires_at,
    }
}

fn audit(actor: &Actor, action: &'static str, target: String, detail: String) -> NewAudit {
    NewAudit {
        at: Timestamp::now(),
        actor: actor.login.clone(),
        source: actor.source.clone(),
        action,
        target,
        detail,
    }
}

fn describe_change(before: &User, after: &User) -> Vec<String> {
    let mut said = Vec::new();
    if before.display_name != after.display_name {
        said.push(format!(
            "name {:?} → {:?}",
            before.display_name, after.display_name
        ));
    }
    if before.role != after.role {
        said.push(format!("role {} → {}", before.role, after.role));
    }
    if before.scope != after.scope {
        said.push(format!("scope {} → {}", before.scope, after.scope));
    }
    if before.disabled != after.disabled {
        said.push(
            if after.disabled {
                "disabled"
            } else {
                "enabled"
            }
            .into(),
        );
    }
    said
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}
