//! Every statement of the registry, written once for both databases, as the operations of a
//! transaction. A [`Tx`] comes from [`crate::Registry::write`] or [`crate::Registry::read`].

use crate::audit::entry_hash;
use crate::error::{RegistryError, Result};
use crate::model::*;
use crate::sql::{Param, Row, Sql};

/// The operations available inside one transaction.
pub struct Tx<'a> {
    pub(crate) sql: &'a mut dyn Sql,
}

const USER_COLUMNS: &str = "id, name, role, region, employer_id, disabled, created_at";
const APPLICATION_COLUMNS: &str = "id, employer_id, kind, region, category, nationality, workers, permit_id, \
     request, worker, status, submitted_at, submitted_by, decided_at, decided_by, decision, grounds";
const PERMIT_COLUMNS: &str = "id, application_id, employer_id, region, category, nationality, workers, quota_year, \
     valid_from, valid_until, extensions, status, consumes, issued_at, closed_at, closed_reason";
/// The conditions of a listing ([`Filter`]): `$1` after, `$2` employer, `$3` region, `$4` status.
const FILTER: &str = "id > $1 AND (CAST($2 AS BIGINT) IS NULL OR employer_id = $2) \
     AND (CAST($3 AS TEXT) IS NULL OR region = $3) AND (CAST($4 AS TEXT) IS NULL OR status = $4)";
const AUDIT_COLUMNS: &str = "seq, at, actor_id, actor, action, object, before_state, after_state, prev_hash, hash";

/// The most rows one listing returns, whatever is asked.
pub const MAX_PAGE: usize = 1_000;

impl Tx<'_> {
    pub(crate) fn one(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        Ok(self.sql.query(sql, params)?.into_iter().next())
    }

    /// Runs an `INSERT … RETURNING id`; the id.
    pub(crate) fn insert(&mut self, sql: &str, params: &[Param<'_>]) -> Result<i64> {
        self.one(sql, params)?.ok_or_else(|| RegistryError::Corrupt("an insert returned no id".into()))?.int(0)
    }

    // --- settings ---

    /// A setting of the registry (the policy in force, …).
    pub fn setting(&mut self, key: &str) -> Result<Option<String>> {
        self.one("SELECT value FROM registry_meta WHERE key = $1", &[key.into()])?.map(|r| r.text(0)).transpose()
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.sql.exec(
            "INSERT INTO registry_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[key.into(), value.into()],
        )?;
        Ok(())
    }

    // --- users and credentials ---

    pub fn insert_user(&mut self, user: &NewUser, at: i64) -> Result<i64> {
        self.insert(
            "INSERT INTO app_user (name, password_hash, role, region, employer_id, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
            &[
                user.name.as_str().into(),
                user.password_hash.as_str().into(),
                user.role.name().into(),
                user.region.as_deref().into(),
                user.employer.into(),
                at.into(),
            ],
        )
    }

    /// A user by name, with the password hash.
    pub fn user_by_name(&mut self, name: &str) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM app_user WHERE name = $1");
        match self.one(&sql, &[name.into()])? {
            Some(row) => Ok(Some((user(&row)?, row.text(7)?))),
            None => Ok(None),
        }
    }

    pub fn user(&mut self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = $1");
        self.one(&sql, &[id.into()])?.map(|r| user(&r)).transpose()
    }

    pub fn users(&mut self, after: Option<i64>, limit: usize) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = self.sql.query(&sql, &[after.unwrap_or(0).into(), page_limit(limit).into()])?;
        rows.iter().map(user).collect()
    }

    pub fn set_user_disabled(&mut self, id: i64, disabled: bool) -> Result<bool> {
        Ok(self
            .sql
            .exec("UPDATE app_user SET disabled = $1 WHERE id = $2", &[i64::from(disabled).into(), id.into()])?
            == 1)
    }

    pub fn set_password(&mut self, id: i64, password_hash: &str) -> Result<bool> {
        Ok(self.sql.exec("UPDATE app_user SET password_hash = $1 WHERE id = $2", &[password_hash.into(), id.into()])?
            == 1)
    }

    pub fn insert_credential(&mut self, c: &NewCredential) -> Result<i64> {
        self.insert(
            "INSERT INTO credential (secret_hash, kind, user_id, label, csrf_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                c.secret_hash.as_str().into(),
                c.kind.name().into(),
                c.user.into(),
                c.label.as_str().into(),
                c.csrf_hash.as_deref().into(),
                c.created_at.into(),
                c.expires_at.into(),
            ],
        )
    }

    /// The credential with this secret hash and its user, whatever its state (the caller
    /// checks expiry and revocation against its clock).
    pub fn credential(&mut self, secret_hash: &str) -> Result<Option<(Credential, User)>> {
        // Read on every signed-in request: one statement, the user's columns as in USER_COLUMNS.
        const SQL: &str = "SELECT c.id, c.kind, c.user_id, c.label, c.csrf_hash, c.created_at, c.expires_at, \
             c.revoked_at, u.id, u.name, u.role, u.region, u.employer_id, u.disabled, u.created_at \
             FROM credential c JOIN app_user u ON u.id = c.user_id WHERE c.secret_hash = $1";
        let Some(row) = self.one(SQL, &[secret_hash.into()])? else { return Ok(None) };
        let kind = match row.text(1)?.as_str() {
            "session" => CredentialKind::Session,
            "token" => CredentialKind::Token,
            other => return Err(RegistryError::Corrupt(format!("unknown credential kind `{other}`"))),
        };
        let credential = Credential {
            id: row.int(0)?,
            kind,
            user: row.int(2)?,
            label: row.text(3)?,
            csrf_hash: row.opt_text(4)?,
            created_at: row.int(5)?,
            expires_at: row.int(6)?,
            revoked_at: row.opt_int(7)?,
        };
        let user = user(&Row(row.0[8..].to_vec()))?;
        Ok(Some((credential, user)))
    }

    /// Revokes a credential (of `user`, when given); whether one was revoked.
    pub fn revoke_credential(&mut self, id: i64, user: Option<i64>, at: i64) -> Result<bool> {
        Ok(self.sql.exec(
            "UPDATE credential SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             AND (CAST($3 AS BIGINT) IS NULL OR user_id = $3)",
            &[at.into(), id.into(), user.into()],
        )? == 1)
    }

    /// Revokes every live credential of a user (a disabled user, a changed password).
    pub fn revoke_user_credentials(&mut self, user: i64, at: i64) -> Result<u64> {
        self.sql.exec(
            "UPDATE credential SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            &[at.into(), user.into()],
        )
    }

    /// Deletes credentials that expired before `before` (they can no longer be used).
    pub fn purge_credentials(&mut self, before: i64) -> Result<u64> {
        self.sql.exec("DELETE FROM credential WHERE expires_at < $1", &[before.into()])
    }

    // --- employers ---

    pub fn insert_employer(&mut self, e: &NewEmployer, at: i64) -> Result<i64> {
        self.insert(
            "INSERT INTO employer (name, bin, region, facts, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                e.name.as_str().into(),
                e.bin.as_str().into(),
                e.region.as_str().into(),
                e.facts.as_str().into(),
                at.into(),
            ],
        )
    }

    pub fn employer(&mut self, id: i64) -> Result<Option<EmployerRecord>> {
        self.one("SELECT id, name, bin, region, facts, created_at FROM employer WHERE id = $1", &[id.into()])?
            .map(|r| employer(&r))
            .transpose()
    }

    pub fn employers(&mut self, after: Option<i64>, limit: usize) -> Result<Vec<EmployerRecord>> {
        let rows = self.sql.query(
            "SELECT id, name, bin, region, facts, created_at FROM employer WHERE id > $1 ORDER BY id LIMIT $2",
            &[after.unwrap_or(0).into(), page_limit(limit).into()],
        )?;
        rows.iter().map(employer).collect()
    }

    pub fn set_employer_facts(&mut self, id: i64, facts: &str) -> Result<bool> {
        Ok(self.sql.exec("UPDATE employer SET facts = $1 WHERE id = $2", &[facts.into(), id.into()])? == 1)
    }

    // --- the quota ---

    /// Sets a cell's allocation (creating the cell). Refused by the database if fewer places
    /// would be allocated than are already used.
    pub fn set_quota(&mut self, key: &CellKey, allocated: i64) -> Result<()> {
        self.sql.exec(
            "INSERT INTO quota_cell (year, line, region, category, allocated, used) VALUES ($1, $2, $3, $4, $5, 0) \
             ON CONFLICT (year, line, region, category) DO UPDATE SET allocated = excluded.allocated",
            &[
                i64::from(key.year).into(),
                key.line.as_str().into(),
                key.region.as_str().into(),
                key.category.as_str().into(),
                allocated.into(),
            ],
        )?;
        Ok(())
    }

    /// A year's cells, in key order; `lock` holds them until the transaction ends.
    pub fn quota_cells(&mut self, year: i32, lock: bool) -> Result<Vec<QuotaCellRecord>> {
        let sql = format!(
            "SELECT year, line, region, category, allocated, used FROM quota_cell WHERE year = $1 \
             ORDER BY line, region, category{}",
            if lock { self.sql.lock_suffix() } else { "" }
        );
        let rows = self.sql.query(&sql, &[i64::from(year).into()])?;
        rows.iter().map(quota_cell).collect()
    }

    /// Every year's cells (for listing), in key order, at most `limit`.
    pub fn all_quota_cells(&mut self, limit: usize) -> Result<Vec<QuotaCellRecord>> {
        let rows = self.sql.query(
            "SELECT year, line, region, category, allocated, used FROM quota_cell \
             ORDER BY year, line, region, category LIMIT $1",
            &[page_limit(limit).into()],
        )?;
        rows.iter().map(quota_cell).collect()
    }

    /// Consumes places of a cell if they are free; false (and nothing changed) if not.
    pub fn consume(&mut self, key: &CellKey, places: i64) -> Result<bool> {
        Ok(self.sql.exec(
            "UPDATE quota_cell SET used = used + $1 WHERE year = $2 AND line = $3 AND region = $4 AND category = $5 \
             AND used + $1 <= allocated",
            &[
                places.into(),
                i64::from(key.year).into(),
                key.line.as_str().into(),
                key.region.as_str().into(),
                key.category.as_str().into(),
            ],
        )? == 1)
    }

    /// Gives places back to a cell (a revoked permit); false if the cell does not have them used.
    pub fn release(&mut self, key: &CellKey, places: i64) -> Result<bool> {
        Ok(self.sql.exec(
            "UPDATE quota_cell SET used = used - $1 WHERE year = $2 AND line = $3 AND region = $4 AND category = $5 \
             AND used >= $1",
            &[
                places.into(),
                i64::from(key.year).into(),
                key.line.as_str().into(),
                key.region.as_str().into(),
                key.category.as_str().into(),
            ],
        )? == 1)
    }

    // --- applications ---

    pub fn insert_application(&mut self, a: &NewApplication) -> Result<i64> {
        self.insert(
            "INSERT INTO application (employer_id, kind, region, category, nationality, workers, permit_id, request, \
             worker, status, submitted_at, submitted_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11) RETURNING id",
            &[
                a.employer.into(),
                a.kind.as_str().into(),
                a.region.as_str().into(),
                a.category.as_str().into(),
                a.nationality.as_str().into(),
                a.workers.into(),
                a.permit.into(),
                a.request.as_str().into(),
                a.worker.as_str().into(),
                a.submitted_at.into(),
                a.submitted_by.into(),
            ],
        )
    }

    /// An application; `lock` holds it until the transaction ends.
    pub fn application(&mut self, id: i64, lock: bool) -> Result<Option<ApplicationRecord>> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS} FROM application WHERE id = $1{}",
            if lock { self.sql.lock_suffix() } else { "" }
        );
        self.one(&sql, &[id.into()])?.map(|r| application(&r)).transpose()
    }

    pub fn applications(&mut self, filter: &Filter) -> Result<Vec<ApplicationRecord>> {
        let sql = format!("SELECT {APPLICATION_COLUMNS} FROM application WHERE {FILTER} ORDER BY id LIMIT $5");
        let rows = self.sql.query(&sql, &filter_params(filter))?;
        rows.iter().map(application).collect()
    }

    /// Records the decision on a pending application; the application as it is now, or `None`
    /// if it is no longer pending.
    pub fn record_decision(&mut self, id: i64, d: &DecisionRecord) -> Result<Option<ApplicationRecord>> {
        let sql = format!(
            "UPDATE application SET status = $1, decided_at = $2, decided_by = $3, decision = $4, grounds = $5 \
             WHERE id = $6 AND status = 'pending' RETURNING {APPLICATION_COLUMNS}"
        );
        let params = [
            d.status.name().into(),
            d.decided_at.into(),
            d.decided_by.into(),
            d.decision.as_str().into(),
            d.grounds.as_deref().into(),
            id.into(),
        ];
        self.one(&sql, &params)?.map(|r| application(&r)).transpose()
    }

    /// Withdraws a pending application; false if it is no longer pending.
    pub fn withdraw_application(&mut self, id: i64, at: i64, by: i64) -> Result<bool> {
        Ok(self.sql.exec(
            "UPDATE application SET status = 'withdrawn', decided_at = $1, decided_by = $2 \
             WHERE id = $3 AND status = 'pending'",
            &[at.into(), by.into(), id.into()],
        )? == 1)
    }

    // --- permits ---

    /// Issues a permit; the permit as stored.
    pub fn insert_permit(&mut self, p: &NewPermit) -> Result<PermitRecord> {
        let sql = format!(
            "INSERT INTO permit (application_id, employer_id, region, category, nationality, workers, quota_year, \
             valid_from, valid_until, extensions, status, consumes, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 'active', $10, $11) RETURNING {PERMIT_COLUMNS}"
        );
        let params = [
            p.application.into(),
            p.employer.into(),
            p.region.as_str().into(),
            p.category.as_str().into(),
            p.nationality.as_str().into(),
            p.workers.into(),
            i64::from(p.quota_year).into(),
            p.valid_from.as_str().into(),
            p.valid_until.as_str().into(),
            p.consumes.as_str().into(),
            p.issued_at.into(),
        ];
        let row = self.one(&sql, &params)?.ok_or_else(|| RegistryError::Corrupt("an insert returned no row".into()))?;
        permit(&row)
    }

    pub fn permit(&mut self, id: i64, lock: bool) -> Result<Option<PermitRecord>> {
        let sql = format!(
            "SELECT {PERMIT_COLUMNS} FROM permit WHERE id = $1{}",
            if lock { self.sql.lock_suffix() } else { "" }
        );
        self.one(&sql, &[id.into()])?.map(|r| permit(&r)).transpose()
    }

    pub fn permits(&mut self, filter: &Filter) -> Result<Vec<PermitRecord>> {
        let sql = format!("SELECT {PERMIT_COLUMNS} FROM permit WHERE {FILTER} ORDER BY id LIMIT $5");
        let rows = self.sql.query(&sql, &filter_params(filter))?;
        rows.iter().map(permit).collect()
    }

    /// Workers on an employer's active permits by (category, citizenship).
    pub fn active_workers(&mut self, employer: i64) -> Result<Vec<(String, String, i64)>> {
        let rows = self.sql.query(
            "SELECT category, nationality, CAST(SUM(workers) AS BIGINT) FROM permit \
             WHERE employer_id = $1 AND status = 'active' GROUP BY category, nationality ORDER BY category, nationality",
            &[employer.into()],
        )?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)?))).collect()
    }

    /// Active permits whose last day is before `date` (`YYYY-MM-DD`), at most `limit`, locked.
    pub fn lapsed_permits(&mut self, date: &str, limit: usize) -> Result<Vec<PermitRecord>> {
        let sql = format!(
            "SELECT {PERMIT_COLUMNS} FROM permit WHERE status = 'active' AND valid_until < $1 ORDER BY id LIMIT $2{}",
            self.sql.lock_suffix()
        );
        let rows = self.sql.query(&sql, &[date.into(), page_limit(limit).into()])?;
        rows.iter().map(permit).collect()
    }

    /// Writes a permit's changeable fields (status, term, extensions, closing).
    pub fn update_permit(&mut self, p: &PermitRecord) -> Result<bool> {
        Ok(self.sql.exec(
            "UPDATE permit SET status = $1, valid_until = $2, extensions = $3, closed_at = $4, closed_reason = $5 \
             WHERE id = $6",
            &[
                p.status.name().into(),
                p.valid_until.as_str().into(),
                p.extensions.into(),
                p.closed_at.into(),
                p.closed_reason.as_deref().into(),
                p.id.into(),
            ],
        )? == 1)
    }

    // --- the audit log ---

    /// Appends an entry to the chain. Takes the chain's head (on PostgreSQL, locking it until the
    /// transaction ends), so appends are serialised and the chain cannot fork; call it last.
    pub fn append_audit(&mut self, e: &NewAudit) -> Result<AuditEntry> {
        let sql = format!("SELECT seq, hash FROM audit_head WHERE id = 1{}", self.sql.lock_suffix());
        let head = self.one(&sql, &[])?.ok_or_else(|| RegistryError::Corrupt("the audit chain has no head".into()))?;
        let seq = head.int(0)? + 1;
        let prev_hash = head.text(1)?;
        let hash = entry_hash(
            seq,
            e.at,
            e.actor_id,
            &e.actor,
            &e.action,
            &e.object,
            e.before.as_deref(),
            e.after.as_deref(),
            &prev_hash,
        );
        self.sql.exec(
            "INSERT INTO audit (seq, at, actor_id, actor, action, object, before_state, after_state, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                seq.into(),
                e.at.into(),
                e.actor_id.into(),
                e.actor.as_str().into(),
                e.action.as_str().into(),
                e.object.as_str().into(),
                e.before.as_deref().into(),
                e.after.as_deref().into(),
                prev_hash.as_str().into(),
                hash.as_str().into(),
            ],
        )?;
        // The schema's trigger moves the head to this entry.
        Ok(AuditEntry {
            seq,
            at: e.at,
            actor_id: e.actor_id,
            actor: e.actor.clone(),
            action: e.action.clone(),
            object: e.object.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            prev_hash,
            hash,
        })
    }

    /// Entries after `after_seq`, in order, at most `limit` (up to 10,000).
    pub fn audit(&mut self, after_seq: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows = self.sql.query(&sql, &[after_seq.into(), (limit.clamp(1, 10_000) as i64).into()])?;
        rows.iter().map(audit).collect()
    }

    /// The chain's head: (entries, last hash).
    pub fn audit_head(&mut self) -> Result<(i64, String)> {
        let head = self
            .one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?
            .ok_or_else(|| RegistryError::Corrupt("the audit chain has no head".into()))?;
        Ok((head.int(0)?, head.text(1)?))
    }
}

pub(crate) fn page_limit(limit: usize) -> i64 {
    limit.clamp(1, MAX_PAGE) as i64
}

fn filter_params(f: &Filter) -> Vec<Param<'_>> {
    vec![
        f.after.unwrap_or(0).into(),
        f.employer.into(),
        f.region.as_deref().into(),
        f.status.as_deref().into(),
        page_limit(f.limit).into(),
    ]
}

fn user(r: &Row) -> Result<User> {
    let role = r.text(2)?;
    Ok(User {
        id: r.int(0)?,
        name: r.text(1)?,
        role: Role::parse(&role).ok_or_else(|| RegistryError::Corrupt(format!("unknown role `{role}`")))?,
        region: r.opt_text(3)?,
        employer: r.opt_int(4)?,
        disabled: r.int(5)? != 0,
        created_at: r.int(6)?,
    })
}

fn employer(r: &Row) -> Result<EmployerRecord> {
    Ok(EmployerRecord {
        id: r.int(0)?,
        name: r.text(1)?,
        bin: r.text(2)?,
        region: r.text(3)?,
        facts: r.text(4)?,
        created_at: r.int(5)?,
    })
}

fn year(v: i64) -> Result<i32> {
    i32::try_from(v).map_err(|_| RegistryError::Corrupt(format!("year {v} out of range")))
}

fn quota_cell(r: &Row) -> Result<QuotaCellRecord> {
    Ok(QuotaCellRecord {
        key: CellKey { year: year(r.int(0)?)?, line: r.text(1)?, region: r.text(2)?, category: r.text(3)? },
        allocated: r.int(4)?,
        used: r.int(5)?,
    })
}

fn application(r: &Row) -> Result<ApplicationRecord> {
    let status = r.text(10)?;
    Ok(ApplicationRecord {
        id: r.int(0)?,
        employer: r.int(1)?,
        kind: r.text(2)?,
        region: r.text(3)?,
        category: r.text(4)?,
        nationality: r.text(5)?,
        workers: r.int(6)?,
        permit: r.opt_int(7)?,
        request: r.text(8)?,
        worker: r.text(9)?,
        status: ApplicationStatus::parse(&status)
            .ok_or_else(|| RegistryError::Corrupt(format!("unknown application status `{status}`")))?,
        submitted_at: r.int(11)?,
        submitted_by: r.int(12)?,
        decided_at: r.opt_int(13)?,
        decided_by: r.opt_int(14)?,
        decision: r.opt_text(15)?,
        grounds: r.opt_text(16)?,
    })
}

fn permit(r: &Row) -> Result<PermitRecord> {
    let status = r.text(11)?;
    Ok(PermitRecord {
        id: r.int(0)?,
        application: r.int(1)?,
        employer: r.int(2)?,
        region: r.text(3)?,
        category: r.text(4)?,
        nationality: r.text(5)?,
        workers: r.int(6)?,
        quota_year: year(r.int(7)?)?,
        valid_from: r.text(8)?,
        valid_until: r.text(9)?,
        extensions: r.int(10)?,
        status: PermitStatus::parse(&status)
            .ok_or_else(|| RegistryError::Corrupt(format!("unknown permit status `{status}`")))?,
        consumes: r.text(12)?,
        issued_at: r.int(13)?,
        closed_at: r.opt_int(14)?,
        closed_reason: r.opt_text(15)?,
    })
}

fn audit(r: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.int(0)?,
        at: r.int(1)?,
        actor_id: r.opt_int(2)?,
        actor: r.text(3)?,
        action: r.text(4)?,
        object: r.text(5)?,
        before: r.opt_text(6)?,
        after: r.opt_text(7)?,
        prev_hash: r.text(8)?,
        hash: r.text(9)?,
    })
}
