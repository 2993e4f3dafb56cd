//! The registry in PostgreSQL: a pool of connections, each transaction saying who it acts for
//! (read by row-level security), rows about to change locked `FOR UPDATE`, the audit chain's
//! head locked last. The role connecting must not bypass row-level security.

use std::collections::HashMap;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls, Statement};

use crate::error::{RegistryError, Result};
use crate::model::Scope;
use crate::pool::{Lease, Pool};
use crate::sql::{Cell, Param, Row, Sql};
use crate::tx::Tx;

const SCHEMA: &str = include_str!("schema_postgres.sql");

/// One connection and the statements prepared on it.
pub(crate) struct PgConnection {
    /// Always present but while being dropped.
    client: Option<Client>,
    prepared: HashMap<String, Statement>,
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        // The synchronous client closes itself on a runtime of its own, which panics on a thread
        // that drives asynchronous tasks (a server shutting down): close it on a thread of its own.
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

pub(crate) struct PgRegistry {
    url: String,
    pool: Pool<PgConnection>,
}

impl PgConnection {
    fn connect(url: &str) -> Result<Self> {
        Ok(PgConnection { client: Some(Client::connect(url, NoTls)?), prepared: HashMap::new() })
    }

    /// The client and the statements prepared on it.
    fn parts(&mut self) -> Result<(&mut Client, &mut HashMap<String, Statement>)> {
        let client =
            self.client.as_mut().ok_or_else(|| RegistryError::Corrupt("a connection without its client".into()))?;
        Ok((client, &mut self.prepared))
    }
}

/// The statements that open a transaction acting for `scope`, sent as one message (one round
/// trip): the isolation, and who the row-level security policies see the transaction act for.
fn begin_statements(scope: &Scope, read_only: bool) -> String {
    let (employer, region) = match scope {
        Scope::Employer { employer } => (employer.to_string(), String::new()),
        Scope::Officer { region } => (String::new(), region.clone()),
        _ => (String::new(), String::new()),
    };
    // A read sees one snapshot for all its statements (a paged count of many rows, say);
    // writes lock the rows they change and read committed data.
    let isolation = if read_only { "REPEATABLE READ READ ONLY" } else { "READ COMMITTED READ WRITE" };
    format!(
        "BEGIN ISOLATION LEVEL {isolation}; SELECT set_config('koshi.role', {}, true), \
         set_config('koshi.employer', {}, true), set_config('koshi.region', {}, true)",
        literal(scope.role_name()),
        literal(&employer),
        literal(&region)
    )
}

/// A string literal: quotes doubled (standard-conforming strings), NUL (which no code has) dropped.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\0', "").replace('\'', "''"))
}

/// The address without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl PgRegistry {
    pub(crate) fn open(url: &str, connections: usize, wait: Duration) -> Result<Self> {
        let mut first = Client::connect(url, NoTls)?;
        let row = first.query_one(
            "SELECT current_user::TEXT, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )?;
        let (role, privileged): (String, bool) = (row.get(0), row.get(1));
        if privileged {
            return Err(RegistryError::PrivilegedRole { role });
        }
        {
            // One process at a time creates or migrates the schema.
            let mut tx = first.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock(7351004)", &[])?;
            tx.batch_execute(SCHEMA)?;
            let found = crate::check_version_pg(&mut tx, &redacted(url))?;
            if found < crate::MONTHLY_SUMS_SINCE {
                tx.execute("SELECT set_config('koshi.role', 'system', true)", &[])?;
                let mut prepared = HashMap::new();
                Tx { sql: &mut PgSql { client: &mut tx, prepared: &mut prepared } }.rebuild_vacancy_months()?;
            }
            tx.commit()?;
        }
        let mut all = vec![PgConnection { client: Some(first), prepared: HashMap::new() }];
        for _ in 1..connections.max(1) {
            all.push(PgConnection::connect(url)?);
        }
        Ok(PgRegistry { url: url.to_string(), pool: Pool::new(all, wait) })
    }

    pub(crate) fn location(&self) -> String {
        redacted(&self.url)
    }

    /// A write: a transaction on a pooled connection, acting for `scope`. Concurrent writes run
    /// side by side until they meet on a row they both change (a quota cell, the audit chain's
    /// head, taken last), where they queue.
    pub(crate) fn write<T, E: From<RegistryError>>(
        &self,
        scope: &Scope,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(scope, false, f)
    }

    /// A read-only transaction on a pooled connection, acting for `scope`.
    pub(crate) fn read<T, E: From<RegistryError>>(
        &self,
        scope: &Scope,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(scope, true, f)
    }

    /// `f`'s statements each on their own (autocommit), on a pooled connection, acting for no one:
    /// for single statements on tables without row-level security.
    pub(crate) fn autocommit<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut lease = self.connected()?;
        let (client, prepared) = lease.parts()?;
        f(&mut PgSql { client, prepared })
    }

    /// A pooled connection, connected again if the server closed it.
    fn connected(&self) -> Result<Lease<'_, PgConnection>> {
        let mut lease = self.pool.take()?;
        if lease.client.as_ref().is_none_or(Client::is_closed) {
            *lease = PgConnection::connect(&self.url)?;
        }
        Ok(lease)
    }

    fn transaction<T, E: From<RegistryError>>(
        &self,
        scope: &Scope,
        read_only: bool,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut lease = self.connected()?;
        let conn = &mut *lease;
        let (client, prepared) = conn.parts()?;
        if let Err(e) = client.batch_execute(&begin_statements(scope, read_only)) {
            // Perhaps in a transaction that failed to start: not reused.
            conn.client = None;
            return Err(RegistryError::from(e).into());
        }
        // A panic inside leaves the connection in its transaction: it is closed, not reused.
        let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut PgSql { client, prepared })));
        match value {
            Ok(Ok(value)) => {
                client.batch_execute("COMMIT").map_err(RegistryError::from)?;
                Ok(value)
            }
            Ok(Err(e)) => {
                // A failed rollback closes the connection: it is not reused in a transaction.
                if client.batch_execute("ROLLBACK").is_err() {
                    conn.client = None;
                }
                Err(e)
            }
            Err(panic) => {
                conn.client = None;
                std::panic::resume_unwind(panic)
            }
        }
    }
}

struct PgSql<'a, C: GenericClient> {
    client: &'a mut C,
    prepared: &'a mut HashMap<String, Statement>,
}

impl<C: GenericClient> PgSql<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn bind<'p>(
    params: &'p [Param<'p>],
    ints: &'p [Option<i64>],
    texts: &'p [Option<&'p str>],
) -> Vec<&'p (dyn ToSql + Sync)> {
    let (mut i, mut t) = (0, 0);
    params
        .iter()
        .map(|p| match p {
            Param::Int(_) => {
                i += 1;
                &ints[i - 1] as &(dyn ToSql + Sync)
            }
            Param::Text(_) => {
                t += 1;
                &texts[t - 1] as &(dyn ToSql + Sync)
            }
        })
        .collect()
}

fn split<'p>(params: &[Param<'p>]) -> (Vec<Option<i64>>, Vec<Option<&'p str>>) {
    let ints = params.iter().filter_map(|p| if let Param::Int(v) = p { Some(*v) } else { None }).collect();
    let texts = params.iter().filter_map(|p| if let Param::Text(v) = p { Some(*v) } else { None }).collect();
    (ints, texts)
}

impl<C: GenericClient> Sql for PgSql<'_, C> {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let statement = self.statement(sql)?;
        let (ints, texts) = split(params);
        Ok(self.client.execute(&statement, &bind(params, &ints, &texts))?)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let (ints, texts) = split(params);
        let rows = self.client.query(&statement, &bind(params, &ints, &texts))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let cell = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)?.map_or(Cell::Null, |v| Cell::Int(i64::from(v)))
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(i)?.map_or(Cell::Null, |v| Cell::Int(i64::from(v)))
                } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME {
                    row.try_get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text)
                } else {
                    return Err(RegistryError::Corrupt(format!(
                        "column {} has type {ty} koshi never uses",
                        column.name()
                    )));
                };
                cells.push(cell);
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn lock_suffix(&self) -> &'static str {
        " FOR UPDATE"
    }
}
