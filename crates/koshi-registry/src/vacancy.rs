//! The vacancy database's records and statements: vacancies with their dated states, job
//! seekers' counts, and adopted shortage lists.

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};
use crate::sql::{Param, Row};
use crate::tx::{Tx, page_limit};
use crate::vacancy_month::Contribution;

/// Where a vacancy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VacancyStatus {
    Open,
    Filled,
    Closed,
}

impl VacancyStatus {
    pub const ALL: [VacancyStatus; 3] = [VacancyStatus::Open, VacancyStatus::Filled, VacancyStatus::Closed];

    pub fn name(self) -> &'static str {
        match self {
            VacancyStatus::Open => "open",
            VacancyStatus::Filled => "filled",
            VacancyStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<VacancyStatus> {
        VacancyStatus::ALL.into_iter().find(|s| s.name() == text)
    }
}

/// How a vacancy's occupation was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodingState {
    /// Given by whoever posted it.
    Given,
    /// Coded from the title with enough confidence.
    Auto,
    /// Coded with too little confidence: waiting for a regional officer.
    Review,
    /// Confirmed or corrected by an officer.
    Confirmed,
    /// No occupation could be proposed.
    Uncoded,
}

impl CodingState {
    pub const ALL: [CodingState; 5] =
        [CodingState::Given, CodingState::Auto, CodingState::Review, CodingState::Confirmed, CodingState::Uncoded];

    pub fn name(self) -> &'static str {
        match self {
            CodingState::Given => "given",
            CodingState::Auto => "auto",
            CodingState::Review => "review",
            CodingState::Confirmed => "confirmed",
            CodingState::Uncoded => "uncoded",
        }
    }

    pub fn parse(text: &str) -> Option<CodingState> {
        CodingState::ALL.into_iter().find(|s| s.name() == text)
    }
}

/// A vacancy's current row. `record` is the whole vacancy as JSON, typed by the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VacancyRow {
    pub id: i64,
    pub source: String,
    pub source_id: String,
    pub employer: Option<i64>,
    pub region: String,
    pub occupation: Option<String>,
    pub coding: CodingState,
    pub title: String,
    pub search_text: String,
    pub posted: String,
    pub ended: Option<String>,
    pub status: VacancyStatus,
    pub openings: i64,
    pub duplicate_of: Option<i64>,
    pub record: String,
    pub state_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The employer's BIN as the posting gives it, for finding another source's posting of the
    /// same vacancy.
    pub employer_bin: Option<String>,
    /// The employer's name as the repeat finder compares it (`""` when the posting names none);
    /// `None` only in vacancies written before the key was kept.
    pub employer_name: Option<String>,
}

/// One state of a vacancy, appended on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VacancyState {
    pub vacancy: i64,
    pub seq: i64,
    /// The day the change took effect.
    pub as_of: String,
    /// When it was recorded.
    pub at: i64,
    pub actor: String,
    /// `posted`, `updated`, `filled`, `closed`, `disappeared`, `coded`, `duplicate` …
    pub change: String,
    pub record: String,
}

/// What a vacancy listing asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VacancyFilter {
    pub region: Option<String>,
    /// An ISCO-08 code of 1 to 4 digits: the vacancies in that group.
    pub occupation: Option<String>,
    pub status: Option<VacancyStatus>,
    pub coding: Option<CodingState>,
    pub employer: Option<i64>,
    /// Words every listed vacancy's title, employer or settlement contains (lower case).
    pub words: Vec<String>,
    /// Leave out postings known to repeat another.
    pub unique_only: bool,
    pub after: Option<i64>,
    pub limit: usize,
}

/// Job seekers registered at employment centres in one region, occupation, education and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeekerCountRow {
    pub region: String,
    /// `_T` (all) or an ISCO-08 code of 1 to 4 digits.
    pub occupation: String,
    /// `_T` (all) or an education level.
    pub education: String,
    /// `YYYY-MM`.
    pub month: String,
    pub seekers: i64,
    pub source: String,
    pub recorded_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShortageListRow {
    pub id: i64,
    pub rule: String,
    pub as_of: String,
    pub adopted_at: i64,
    pub adopted_by: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShortageEntryRow {
    pub list: i64,
    pub region: String,
    pub occupation: String,
    pub status: String,
    pub seekers: Option<i64>,
    pub vacancies: Option<i64>,
    pub detail: String,
}

const VACANCY_COLUMNS: &str = "id, source, source_id, employer_id, region, occupation, coding, title, search_text, \
     posted, ended, status, openings, duplicate_of, record, state_seq, created_at, updated_at, employer_bin, employer_name";

impl Tx<'_> {
    /// Inserts a vacancy and its first state; its id.
    pub fn insert_vacancy(&mut self, v: &VacancyRow, state: &VacancyState) -> Result<i64> {
        let id = self.insert(
            "INSERT INTO vacancy (source, source_id, employer_id, region, occupation, coding, title, search_text, \
             posted, ended, status, openings, duplicate_of, record, state_seq, created_at, updated_at, employer_bin, \
             employer_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15, $16, $17) RETURNING id",
            &[
                v.source.as_str().into(),
                v.source_id.as_str().into(),
                v.employer.into(),
                v.region.as_str().into(),
                v.occupation.as_deref().into(),
                v.coding.name().into(),
                v.title.as_str().into(),
                v.search_text.as_str().into(),
                v.posted.as_str().into(),
                v.ended.as_deref().into(),
                v.status.name().into(),
                v.openings.into(),
                v.duplicate_of.into(),
                v.record.as_str().into(),
                v.created_at.into(),
                v.employer_bin.as_deref().into(),
                v.employer_name.as_deref().into(),
            ],
        )?;
        self.append_vacancy_state(&VacancyState { vacancy: id, seq: 1, ..state.clone() })?;
        self.move_vacancy_months(None, Some(&Contribution::of(v)))?;
        Ok(id)
    }

    /// Writes a vacancy's new current row and appends the state; false if the vacancy moved on
    /// meanwhile (its `state_seq` is no longer `v.state_seq - 1`).
    pub fn update_vacancy(&mut self, v: &VacancyRow, state: &VacancyState) -> Result<bool> {
        let Some(old) = self.vacancy_contribution(v.id)? else { return Ok(false) };
        let changed = self.sql.exec(
            "UPDATE vacancy SET employer_id = $1, region = $2, occupation = $3, coding = $4, title = $5, \
             search_text = $6, posted = $7, ended = $8, status = $9, openings = $10, duplicate_of = $11, record = $12, \
             state_seq = $13, updated_at = $14, employer_bin = $15, employer_name = $16 WHERE id = $17 AND state_seq = $18",
            &[
                v.employer.into(),
                v.region.as_str().into(),
                v.occupation.as_deref().into(),
                v.coding.name().into(),
                v.title.as_str().into(),
                v.search_text.as_str().into(),
                v.posted.as_str().into(),
                v.ended.as_deref().into(),
                v.status.name().into(),
                v.openings.into(),
                v.duplicate_of.into(),
                v.record.as_str().into(),
                v.state_seq.into(),
                v.updated_at.into(),
                v.employer_bin.as_deref().into(),
                v.employer_name.as_deref().into(),
                v.id.into(),
                (v.state_seq - 1).into(),
            ],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        self.append_vacancy_state(&VacancyState { vacancy: v.id, seq: v.state_seq, ..state.clone() })?;
        self.move_vacancy_months(Some(&old), Some(&Contribution::of(v)))?;
        Ok(true)
    }

    fn append_vacancy_state(&mut self, s: &VacancyState) -> Result<()> {
        self.sql.exec(
            "INSERT INTO vacancy_state (vacancy_id, seq, as_of, at, actor, change, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                s.vacancy.into(),
                s.seq.into(),
                s.as_of.as_str().into(),
                s.at.into(),
                s.actor.as_str().into(),
                s.change.as_str().into(),
                s.record.as_str().into(),
            ],
        )?;
        Ok(())
    }

    /// A vacancy; `lock` holds it until the transaction ends.
    pub fn vacancy(&mut self, id: i64, lock: bool) -> Result<Option<VacancyRow>> {
        let sql = format!(
            "SELECT {VACANCY_COLUMNS} FROM vacancy WHERE id = $1{}",
            if lock { self.sql.lock_suffix() } else { "" }
        );
        self.one(&sql, &[id.into()])?.map(|r| vacancy_row(&r)).transpose()
    }

    /// A vacancy by its source's key, held until the transaction ends.
    pub fn vacancy_by_source(&mut self, source: &str, source_id: &str) -> Result<Option<VacancyRow>> {
        let sql = format!(
            "SELECT {VACANCY_COLUMNS} FROM vacancy WHERE source = $1 AND source_id = $2{}",
            self.sql.lock_suffix()
        );
        self.one(&sql, &[source.into(), source_id.into()])?.map(|r| vacancy_row(&r)).transpose()
    }

    /// The open vacancies of one source, in id order from `after` (for closing those a full
    /// snapshot of the source no longer holds).
    pub fn open_vacancies_of_source(&mut self, source: &str, after: i64, limit: usize) -> Result<Vec<VacancyRow>> {
        let sql = format!(
            "SELECT {VACANCY_COLUMNS} FROM vacancy WHERE source = $1 AND status = 'open' AND id > $2 \
             ORDER BY id LIMIT $3{}",
            self.sql.lock_suffix()
        );
        let rows = self.sql.query(&sql, &[source.into(), after.into(), (limit as i64).into()])?;
        rows.iter().map(vacancy_row).collect()
    }

    /// Open vacancies in a region posted within `[from, to]` (ISO dates) whose employer has one
    /// of these BINs or (normalised) names, the newest posted first, at most `limit`; with them the open
    /// vacancies written before employers were kept as keys, which any employer may match. For
    /// finding another source's posting of the same vacancy.
    pub fn open_vacancies_of_employers(
        &mut self,
        region: &str,
        (from, to): (&str, &str),
        bins: &[&str],
        names: &[&str],
        limit: usize,
    ) -> Result<Vec<VacancyRow>> {
        let mut found: std::collections::BTreeMap<i64, VacancyRow> = std::collections::BTreeMap::new();
        let base = format!(
            "SELECT {VACANCY_COLUMNS} FROM vacancy WHERE region = $1 AND status = 'open' AND posted >= $2 \
             AND posted <= $3 AND duplicate_of IS NULL"
        );
        let limit_param = (limit.max(1) as i64).into();
        let take = |rows: Vec<Row>, found: &mut std::collections::BTreeMap<i64, VacancyRow>| -> Result<()> {
            for row in &rows {
                let v = vacancy_row(row)?;
                found.insert(v.id, v);
            }
            Ok(())
        };
        for (column, keys) in [("employer_bin", bins), ("employer_name", names)] {
            // Few enough parameters for either database in one statement.
            for chunk in keys.chunks(500) {
                let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 4)).collect();
                let sql = format!(
                    "{base} AND {column} IN ({}) ORDER BY posted DESC, id DESC LIMIT ${}",
                    list.join(", "),
                    chunk.len() + 4
                );
                let mut params: Vec<Param<'_>> = vec![region.into(), from.into(), to.into()];
                params.extend(chunk.iter().map(|k| Param::from(*k)));
                params.push(limit_param);
                take(self.sql.query(&sql, &params)?, &mut found)?;
            }
        }
        let legacy = format!("{base} AND employer_name IS NULL ORDER BY posted DESC, id DESC LIMIT $4");
        take(self.sql.query(&legacy, &[region.into(), from.into(), to.into(), limit_param])?, &mut found)?;
        // Newest first, so that a bound drops the oldest, least likely to be reposted. (Ordered by
        // the posting day, not the id, so that the employer's index serves the query, not the
        // region's, whose open vacancies grow with the database.)
        let mut rows: Vec<VacancyRow> = found.into_values().collect();
        rows.sort_by(|a, b| (&b.posted, b.id).cmp(&(&a.posted, a.id)));
        rows.truncate(limit);
        Ok(rows)
    }

    pub fn vacancies(&mut self, f: &VacancyFilter) -> Result<Vec<VacancyRow>> {
        let mut sql = format!(
            "SELECT {VACANCY_COLUMNS} FROM vacancy WHERE id > $1 AND (CAST($2 AS TEXT) IS NULL OR region = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR occupation LIKE $3) AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
             AND (CAST($5 AS TEXT) IS NULL OR coding = $5) AND (CAST($6 AS BIGINT) IS NULL OR employer_id = $6)"
        );
        if f.unique_only {
            sql.push_str(" AND duplicate_of IS NULL");
        }
        let patterns: Vec<String> = f.words.iter().take(8).map(|w| format!("%{}%", escape_like(w))).collect();
        // Parameters are numbered in the order they first appear: the words, then the limit.
        for i in 0..patterns.len() {
            sql.push_str(&format!(" AND search_text LIKE ${} ESCAPE '\\'", 7 + i));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", 7 + patterns.len()));
        let occupation = f.occupation.as_ref().map(|o| format!("{}%", escape_like(o)));
        let mut params: Vec<Param<'_>> = vec![
            f.after.unwrap_or(0).into(),
            f.region.as_deref().into(),
            occupation.as_deref().into(),
            f.status.map(VacancyStatus::name).into(),
            f.coding.map(CodingState::name).into(),
            f.employer.into(),
        ];
        params.extend(patterns.iter().map(|p| Param::from(p.as_str())));
        params.push(page_limit(f.limit).into());
        let rows = self.sql.query(&sql, &params)?;
        rows.iter().map(vacancy_row).collect()
    }

    /// How many vacancies a listing's conditions match, without paging (bounded by `cap`).
    pub fn count_vacancies(&mut self, region: Option<&str>, status: Option<VacancyStatus>) -> Result<i64> {
        let row = self.one(
            "SELECT COUNT(*) FROM vacancy WHERE (CAST($1 AS TEXT) IS NULL OR region = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR status = $2)",
            &[region.into(), status.map(VacancyStatus::name).into()],
        )?;
        row.map_or(Ok(0), |r| r.int(0))
    }

    pub fn vacancy_states(&mut self, id: i64, limit: usize) -> Result<Vec<VacancyState>> {
        let rows = self.sql.query(
            "SELECT vacancy_id, seq, as_of, at, actor, change, record FROM vacancy_state WHERE vacancy_id = $1 \
             ORDER BY seq LIMIT $2",
            &[id.into(), page_limit(limit).into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(VacancyState {
                    vacancy: r.int(0)?,
                    seq: r.int(1)?,
                    as_of: r.text(2)?,
                    at: r.int(3)?,
                    actor: r.text(4)?,
                    change: r.text(5)?,
                    record: r.text(6)?,
                })
            })
            .collect()
    }

    // --- job seekers ---

    /// Sets one count (replacing what the same region, occupation, education and month had);
    /// the count it replaced.
    pub fn put_seeker_count(&mut self, c: &SeekerCountRow) -> Result<Option<i64>> {
        let before = self
            .one(
                "SELECT seekers FROM seeker_count WHERE region = $1 AND occupation = $2 AND education = $3 AND month = $4",
                &[c.region.as_str().into(), c.occupation.as_str().into(), c.education.as_str().into(), c.month.as_str().into()],
            )?
            .map(|r| r.int(0))
            .transpose()?;
        self.sql.exec(
            "INSERT INTO seeker_count (region, occupation, education, month, seekers, source, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region, occupation, education, month) \
             DO UPDATE SET seekers = excluded.seekers, source = excluded.source, recorded_at = excluded.recorded_at",
            &[
                c.region.as_str().into(),
                c.occupation.as_str().into(),
                c.education.as_str().into(),
                c.month.as_str().into(),
                c.seekers.into(),
                c.source.as_str().into(),
                c.recorded_at.into(),
            ],
        )?;
        Ok(before)
    }

    /// Seekers' counts in `[from, to]` (months `YYYY-MM`), optionally of one region.
    pub fn seeker_counts(&mut self, region: Option<&str>, from: &str, to: &str) -> Result<Vec<SeekerCountRow>> {
        let rows = self.sql.query(
            "SELECT region, occupation, education, month, seekers, source, recorded_at FROM seeker_count \
             WHERE (CAST($1 AS TEXT) IS NULL OR region = $1) AND month >= $2 AND month <= $3 \
             ORDER BY region, occupation, education, month LIMIT 1000000",
            &[region.into(), from.into(), to.into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(SeekerCountRow {
                    region: r.text(0)?,
                    occupation: r.text(1)?,
                    education: r.text(2)?,
                    month: r.text(3)?,
                    seekers: r.int(4)?,
                    source: r.text(5)?,
                    recorded_at: r.int(6)?,
                })
            })
            .collect()
    }

    // --- shortage lists ---

    pub fn insert_shortage_list(&mut self, list: &ShortageListRow, entries: &[ShortageEntryRow]) -> Result<i64> {
        let id = self.insert(
            "INSERT INTO shortage_list (rule, as_of, adopted_at, adopted_by, summary) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
            &[
                list.rule.as_str().into(),
                list.as_of.as_str().into(),
                list.adopted_at.into(),
                list.adopted_by.as_str().into(),
                list.summary.as_str().into(),
            ],
        )?;
        for e in entries {
            self.sql.exec(
                "INSERT INTO shortage_entry (list_id, region, occupation, status, seekers, vacancies, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    id.into(),
                    e.region.as_str().into(),
                    e.occupation.as_str().into(),
                    e.status.as_str().into(),
                    e.seekers.into(),
                    e.vacancies.into(),
                    e.detail.as_str().into(),
                ],
            )?;
        }
        Ok(id)
    }

    /// The newest adopted list, if any.
    pub fn latest_shortage_list(&mut self) -> Result<Option<ShortageListRow>> {
        self.one(
            "SELECT id, rule, as_of, adopted_at, adopted_by, summary FROM shortage_list ORDER BY id DESC LIMIT 1",
            &[],
        )?
        .map(|r| shortage_list_row(&r))
        .transpose()
    }

    pub fn shortage_list(&mut self, id: i64) -> Result<Option<ShortageListRow>> {
        self.one(
            "SELECT id, rule, as_of, adopted_at, adopted_by, summary FROM shortage_list WHERE id = $1",
            &[id.into()],
        )?
        .map(|r| shortage_list_row(&r))
        .transpose()
    }

    /// A list's entries for one region (or all), for occupations starting with `occupation`.
    pub fn shortage_entries(
        &mut self,
        list: i64,
        region: Option<&str>,
        occupation: Option<&str>,
        status: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<ShortageEntryRow>> {
        let occupation = occupation.map(|o| format!("{}%", escape_like(o)));
        let rows = self.sql.query(
            "SELECT list_id, region, occupation, status, seekers, vacancies, detail FROM shortage_entry \
             WHERE list_id = $1 AND (CAST($2 AS TEXT) IS NULL OR region = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR occupation LIKE $3 ESCAPE '\\') AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
             AND (CAST($5 AS TEXT) IS NULL OR region > $5 OR (region = $5 AND occupation > $6)) \
             ORDER BY region, occupation LIMIT $7",
            &[
                list.into(),
                region.into(),
                occupation.as_deref().into(),
                status.into(),
                after.map(|a| a.0).into(),
                after.map(|a| a.1).into(),
                (limit.clamp(1, 100_000) as i64).into(),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(ShortageEntryRow {
                    list: r.int(0)?,
                    region: r.text(1)?,
                    occupation: r.text(2)?,
                    status: r.text(3)?,
                    seekers: r.opt_int(4)?,
                    vacancies: r.opt_int(5)?,
                    detail: r.text(6)?,
                })
            })
            .collect()
    }
}

/// `%`, `_` and `\` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn corrupt(what: &str, value: &str) -> RegistryError {
    RegistryError::Corrupt(format!("a stored {what} `{value}` is not one koshi writes"))
}

fn vacancy_row(r: &Row) -> Result<VacancyRow> {
    let coding = r.text(6)?;
    let status = r.text(11)?;
    Ok(VacancyRow {
        id: r.int(0)?,
        source: r.text(1)?,
        source_id: r.text(2)?,
        employer: r.opt_int(3)?,
        region: r.text(4)?,
        occupation: r.opt_text(5)?,
        coding: CodingState::parse(&coding).ok_or_else(|| corrupt("coding state", &coding))?,
        title: r.text(7)?,
        search_text: r.text(8)?,
        posted: r.text(9)?,
        ended: r.opt_text(10)?,
        status: VacancyStatus::parse(&status).ok_or_else(|| corrupt("vacancy status", &status))?,
        openings: r.int(12)?,
        duplicate_of: r.opt_int(13)?,
        record: r.text(14)?,
        state_seq: r.int(15)?,
        created_at: r.int(16)?,
        updated_at: r.int(17)?,
        employer_bin: r.opt_text(18)?,
        employer_name: r.opt_text(19)?,
    })
}

fn shortage_list_row(r: &Row) -> Result<ShortageListRow> {
    Ok(ShortageListRow {
        id: r.int(0)?,
        rule: r.text(1)?,
        as_of: r.text(2)?,
        adopted_at: r.int(3)?,
        adopted_by: r.text(4)?,
        summary: r.text(5)?,
    })
}
