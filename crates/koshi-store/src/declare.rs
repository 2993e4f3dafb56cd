//! Sources and dataflows declared by users: checked by koshi-core as the bundled ones are,
//! kept in the bank's `declaration` table, and joined to the catalogue whenever the bank opens.
//! A declaration is permanent: declaring the same item again changes nothing, declaring an id
//! again with other content is refused (figures already stored under it would change meaning).

use koshi_core::Catalogue;
use koshi_core::structure::{Dataflow, Declarations, Source, parse_declarations};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Bank, Result, StoreError, upsert_dataflow, upsert_source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Declared {
    Created,
    Unchanged,
}

/// What declaring one source or dataflow did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclareOutcome {
    pub outcome: Declared,
    /// `source` or `dataflow`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
}

const STORED: &str = "the declarations stored in the bank";

impl Bank {
    /// Declare the sources and dataflows of a TOML text in the shape of
    /// `data/structure/sources.toml` and `dataflows.toml` (see [`Bank::declare`]).
    pub fn declare_toml(&mut self, origin: &str, text: &str) -> Result<Vec<DeclareOutcome>> {
        let declarations = parse_declarations(origin, text)?;
        self.declare(origin, &declarations)
    }

    /// Add user-declared sources and dataflows to the bank and its catalogue, all or none.
    /// They are checked as the bundled ones are (well-formed unique ids, names, known code
    /// lists and sources); an id of the bundled catalogue is refused. `origin` says where they
    /// were declared (a command, a mapping file) and names them in errors.
    pub fn declare(&mut self, origin: &str, declarations: &Declarations) -> Result<Vec<DeclareOutcome>> {
        // Under the write lock, after joining what other connections declared meanwhile.
        self.atomically(|bank| {
            bank.refresh_declarations()?;
            let (new, outcomes) = bank.new_declarations(origin, declarations)?;
            if new.is_empty() {
                return Ok(outcomes);
            }
            let mut catalogue = bank.catalogue.clone();
            catalogue.add_declared(origin, &new)?;
            let mut insert = bank.conn.prepare_cached(
                "INSERT INTO declaration(kind, item_id, definition, origin, declared_at)
                 VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%d %H:%M:%S', 'now')) RETURNING id",
            )?;
            let mut last = bank.declarations_seen;
            for s in &new.sources {
                last = insert.query_row(params!["source", s.id, to_json(s)?, origin], |r| r.get(0))?;
                upsert_source(&bank.conn, s)?;
            }
            for df in &new.dataflows {
                last = insert.query_row(params!["dataflow", df.id, to_json(df)?, origin], |r| r.get(0))?;
                upsert_dataflow(&bank.conn, df)?;
            }
            drop(insert);
            bank.catalogue = catalogue;
            bank.declarations_seen = last;
            Ok(outcomes)
        })
    }

    /// The catalogue as it would be with `declarations` (checked as [`Bank::declare`] does),
    /// without writing anything: to read a file against sources it declares before writing.
    pub fn catalogue_with(&self, origin: &str, declarations: &Declarations) -> Result<Catalogue> {
        let (new, _) = self.new_declarations(origin, declarations)?;
        let mut catalogue = self.catalogue.clone();
        if !new.is_empty() {
            catalogue.add_declared(origin, &new)?;
        }
        Ok(catalogue)
    }

    /// The declarations not yet in the bank, and what declaring each would do. An id declared
    /// before with other content is refused.
    fn new_declarations(
        &self,
        origin: &str,
        declarations: &Declarations,
    ) -> Result<(Declarations, Vec<DeclareOutcome>)> {
        let mut new = Declarations::default();
        let mut outcomes = Vec::new();
        for s in &declarations.sources {
            let outcome = match self.declared::<Source>("source", &s.id)? {
                Some((stored, _)) if stored == *s => Declared::Unchanged,
                Some((_, when)) => return Err(redeclared(origin, "source", &s.id, &when)),
                None => {
                    new.sources.push(s.clone());
                    Declared::Created
                }
            };
            outcomes.push(DeclareOutcome { outcome, kind: "source", id: s.id.clone(), name: s.name.en.clone() });
        }
        for df in &declarations.dataflows {
            let outcome = match self.declared::<Dataflow>("dataflow", &df.id)? {
                Some((stored, _)) if stored == *df => Declared::Unchanged,
                Some((_, when)) => return Err(redeclared(origin, "dataflow", &df.id, &when)),
                None => {
                    new.dataflows.push(df.clone());
                    Declared::Created
                }
            };
            outcomes.push(DeclareOutcome { outcome, kind: "dataflow", id: df.id.clone(), name: df.name.en.clone() });
        }
        Ok((new, outcomes))
    }

    /// A declared item and when and where it was declared.
    fn declared<T: serde::de::DeserializeOwned>(&self, kind: &str, id: &str) -> Result<Option<(T, String)>> {
        let row: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT definition, origin, declared_at FROM declaration WHERE kind = ?1 AND item_id = ?2",
                params![kind, id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(json, origin, at)| Ok((from_json(kind, id, &json)?, format!("from {origin} on {at}")))).transpose()
    }

    /// Join the stored declarations to the catalogue (when the bank opens).
    pub(crate) fn load_declarations(&mut self) -> Result<()> {
        self.refresh_declarations().map(|_| ())
    }

    /// Join declarations made through another connection since this bank was opened (another
    /// process's `koshi source add` while a server runs). Whether there were any.
    pub fn refresh_declarations(&mut self) -> Result<bool> {
        // The file's data version changes only when another connection commits: most calls end here.
        let version: i64 = self.conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
        if self.data_version_seen == Some(version) {
            return Ok(false);
        }
        self.data_version_seen = Some(version);
        let mut declarations = Declarations::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, item_id, definition FROM declaration WHERE id > ?1 ORDER BY id")?;
        let rows: Vec<(i64, String, String, String)> = stmt
            .query_map([self.declarations_seen], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<std::result::Result<_, _>>()?;
        drop(stmt);
        let Some(last) = rows.last().map(|r| r.0) else { return Ok(false) };
        for (_, kind, id, json) in rows {
            match kind.as_str() {
                "source" => declarations.sources.push(from_json(&kind, &id, &json)?),
                _ => declarations.dataflows.push(from_json(&kind, &id, &json)?),
            }
        }
        self.catalogue.add_declared(STORED, &declarations)?;
        self.declarations_seen = last;
        Ok(true)
    }
}

fn redeclared(origin: &str, kind: &str, id: &str, when: &str) -> StoreError {
    StoreError::Invalid(format!(
        "{origin}: {kind} {id} was declared before ({when}) with other content; a declared {kind} cannot be changed \
(figures stored under it would change meaning): declare it under another id"
    ))
}

fn to_json<T: Serialize>(item: &T) -> Result<String> {
    serde_json::to_string(item).map_err(|e| StoreError::Invalid(format!("declaration: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(kind: &str, id: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Invalid(format!("{STORED}: {kind} {id} cannot be read: {e}")))
}
