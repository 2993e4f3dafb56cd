//! Running monthly sums of the vacancy database, kept in the same transaction as every vacancy
//! write, so that the labour-demand indicators of any window read a few hundred thousand sums
//! instead of every vacancy ever posted.
//!
//! A vacancy (not a repeat of another posting) adds its openings to the inflow of the month it
//! was posted and, once it ended, its openings to the outflow (and to the hires when it was
//! filled), one ended spell and its duration in days to the month it ended. A change of a vacancy
//! takes its old contribution away and adds the new one. A vacancy that ended before it was posted
//! counts nowhere (the application never writes one).

use std::collections::BTreeMap;

use crate::error::{RegistryError, Result};
use crate::sql::{Param, Row};
use crate::tx::Tx;
use crate::vacancy::{VacancyRow, VacancyStatus, corrupt};

/// The sums of one region, unit group and month over its vacancies, repeats left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacancyMonthRow {
    /// ISO 3166-2, as the vacancies store it.
    pub region: String,
    /// The ISCO-08 unit group; `None` for the vacancies not (yet) coded.
    pub occupation: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
    /// Vacancies posted in the month.
    pub vacancies: i64,
    /// Their openings.
    pub inflow: i64,
    /// Openings of the vacancies that ended in the month.
    pub outflow: i64,
    /// Of them, filled.
    pub hires: i64,
    /// Vacancies that ended in the month.
    pub ended: i64,
    /// The sum of their days from posting to end.
    pub duration_days: i64,
}

/// What the sums depend on in a vacancy's current row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contribution {
    region: String,
    occupation: Option<String>,
    posted: String,
    ended: Option<String>,
    filled: bool,
    openings: i64,
    repeat: bool,
}

impl Contribution {
    pub(crate) fn of(v: &VacancyRow) -> Contribution {
        Contribution {
            region: v.region.clone(),
            occupation: v.occupation.clone(),
            posted: v.posted.clone(),
            ended: v.ended.clone(),
            filled: v.status == VacancyStatus::Filled,
            openings: v.openings,
            repeat: v.duplicate_of.is_some(),
        }
    }

    /// The month rows it adds to (one, or two once it ended in a later month).
    fn parts(&self) -> Result<Vec<VacancyMonthRow>> {
        if self.repeat {
            return Ok(Vec::new());
        }
        let posted = day_number(&self.posted)?;
        let ended = self.ended.as_deref().map(day_number).transpose()?;
        if ended.is_some_and(|e| e < posted) {
            return Ok(Vec::new());
        }
        let posted_month = VacancyMonthRow {
            region: self.region.clone(),
            occupation: self.occupation.clone(),
            month: self.posted[..7].to_string(),
            vacancies: 1,
            inflow: self.openings,
            outflow: 0,
            hires: 0,
            ended: 0,
            duration_days: 0,
        };
        let zero = posted_month.emptied();
        let mut parts = vec![posted_month];
        if let (Some(text), Some(day)) = (&self.ended, ended) {
            let end = VacancyMonthRow {
                month: text[..7].to_string(),
                outflow: self.openings,
                hires: if self.filled { self.openings } else { 0 },
                ended: 1,
                duration_days: day - posted,
                ..zero
            };
            if end.month == parts[0].month {
                parts[0].add(&end, 1);
            } else {
                parts.push(end);
            }
        }
        Ok(parts)
    }
}

impl VacancyMonthRow {
    /// Region, unit group (`""` when not coded) and month: the table's key.
    fn key(&self) -> (String, String, String) {
        (self.region.clone(), self.occupation.clone().unwrap_or_default(), self.month.clone())
    }

    /// The same region, unit group and month with nothing counted.
    fn emptied(&self) -> VacancyMonthRow {
        VacancyMonthRow { vacancies: 0, inflow: 0, outflow: 0, hires: 0, ended: 0, duration_days: 0, ..self.clone() }
    }

    fn add(&mut self, other: &VacancyMonthRow, sign: i64) {
        self.vacancies += sign * other.vacancies;
        self.inflow += sign * other.inflow;
        self.outflow += sign * other.outflow;
        self.hires += sign * other.hires;
        self.ended += sign * other.ended;
        self.duration_days += sign * other.duration_days;
    }
}

/// Days since 1970-01-01 of an ISO date `YYYY-MM-DD`; an error for anything else, so that no
/// vacancy with a date the sums cannot place is written.
fn day_number(text: &str) -> Result<i64> {
    let bad = || RegistryError::Corrupt(format!("the vacancy date `{text}` is not YYYY-MM-DD"));
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64> {
        let part = &text[range];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1..=days_in_month).contains(&day) {
        return Err(bad());
    }
    // Count from March, so that the leap day ends the year (the civil calendar's usual shift).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Ok(era * 146_097 + day_of_era - 719_468)
}

fn month_row(r: &Row) -> Result<VacancyMonthRow> {
    let occupation = r.text(1)?;
    Ok(VacancyMonthRow {
        region: r.text(0)?,
        occupation: (!occupation.is_empty()).then_some(occupation),
        month: r.text(2)?,
        vacancies: r.int(3)?,
        inflow: r.int(4)?,
        outflow: r.int(5)?,
        hires: r.int(6)?,
        ended: r.int(7)?,
        duration_days: r.int(8)?,
    })
}

/// The columns of a vacancy its contribution is read from, in [`contribution_at`]'s order.
const CONTRIBUTION_COLUMNS: &str = "region, occupation, posted, ended, status, openings, duplicate_of";

/// A contribution from [`CONTRIBUTION_COLUMNS`] starting at column `at`.
fn contribution_at(r: &Row, at: usize) -> Result<Contribution> {
    let status = r.text(at + 4)?;
    let status = VacancyStatus::parse(&status).ok_or_else(|| corrupt("vacancy status", &status))?;
    Ok(Contribution {
        region: r.text(at)?,
        occupation: r.opt_text(at + 1)?,
        posted: r.text(at + 2)?,
        ended: r.opt_text(at + 3)?,
        filled: status == VacancyStatus::Filled,
        openings: r.int(at + 5)?,
        repeat: r.opt_int(at + 6)?.is_some(),
    })
}

const MONTH_COLUMNS: &str = "region, occupation, month, vacancies, inflow, outflow, hires, ended, duration_days";

impl Tx<'_> {
    /// Moves the sums from a vacancy's old row to its new one (either may be absent).
    pub(crate) fn move_vacancy_months(&mut self, old: Option<&Contribution>, new: Option<&Contribution>) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let mut delta: BTreeMap<(String, String, String), VacancyMonthRow> = BTreeMap::new();
        for (contribution, sign) in [(old, -1), (new, 1)] {
            let Some(c) = contribution else { continue };
            for part in c.parts()? {
                delta.entry(part.key()).or_insert_with(|| part.emptied()).add(&part, sign);
            }
        }
        for ((region, occupation, month), d) in delta {
            let values = [d.vacancies, d.inflow, d.outflow, d.hires, d.ended, d.duration_days];
            if values.iter().all(|&v| v == 0) {
                continue;
            }
            let key: [Param<'_>; 3] = [region.as_str().into(), occupation.as_str().into(), month.as_str().into()];
            let params: Vec<Param<'_>> = key.iter().copied().chain(values.iter().map(|&v| v.into())).collect();
            if values.iter().all(|&v| v >= 0) {
                self.add_to_month(&params)?;
                continue;
            }
            // Something is taken away, so the month's row holds the old contribution already (an
            // insert would be refused by the sums' checks before it could meet that row).
            let values_then_key: Vec<Param<'_>> = params[3..].iter().chain(&params[..3]).copied().collect();
            let changed = self.sql.exec(
                "UPDATE vacancy_month SET vacancies = vacancies + $1, inflow = inflow + $2, outflow = outflow + $3, \
                 hires = hires + $4, ended = ended + $5, duration_days = duration_days + $6 \
                 WHERE region = $7 AND occupation = $8 AND month = $9",
                &values_then_key,
            )?;
            if changed != 1 {
                return Err(RegistryError::Corrupt(format!(
                    "the monthly sums of {region} {occupation} {month} are missing a vacancy they should hold"
                )));
            }
            // A month nothing counts in any more is not kept: it would put an occupation on the
            // indicators' axis that no vacancy has.
            self.sql.exec(
                "DELETE FROM vacancy_month WHERE region = $1 AND occupation = $2 AND month = $3 \
                 AND vacancies = 0 AND inflow = 0 AND outflow = 0 AND hires = 0 AND ended = 0 AND duration_days = 0",
                &key,
            )?;
        }
        Ok(())
    }

    /// Adds counts to a month's row (creating it): `params` are the key, then the six counts,
    /// none negative.
    fn add_to_month(&mut self, params: &[Param<'_>]) -> Result<()> {
        self.sql.exec(
            "INSERT INTO vacancy_month (region, occupation, month, vacancies, inflow, outflow, hires, ended, \
             duration_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (region, occupation, month) DO UPDATE SET \
             vacancies = vacancy_month.vacancies + excluded.vacancies, \
             inflow = vacancy_month.inflow + excluded.inflow, \
             outflow = vacancy_month.outflow + excluded.outflow, \
             hires = vacancy_month.hires + excluded.hires, \
             ended = vacancy_month.ended + excluded.ended, \
             duration_days = vacancy_month.duration_days + excluded.duration_days",
            params,
        )?;
        Ok(())
    }

    /// What a stored vacancy adds to the sums (its few columns, not its record).
    pub(crate) fn vacancy_contribution(&mut self, id: i64) -> Result<Option<Contribution>> {
        self.one(&format!("SELECT {CONTRIBUTION_COLUMNS} FROM vacancy WHERE id = $1"), &[id.into()])?
            .map(|r| contribution_at(&r, 0))
            .transpose()
    }

    /// The monthly sums up to `to` (`YYYY-MM`, included), by region, occupation and month.
    pub fn vacancy_months(&mut self, to: &str) -> Result<Vec<VacancyMonthRow>> {
        let rows = self.sql.query(
            &format!("SELECT {MONTH_COLUMNS} FROM vacancy_month WHERE month <= $1 ORDER BY region, occupation, month"),
            &[to.into()],
        )?;
        rows.iter().map(month_row).collect()
    }

    /// Vacancies in the database (repeats left out), and of them those without an occupation.
    pub fn vacancy_month_totals(&mut self) -> Result<(i64, i64)> {
        let row = self.one(
            "SELECT CAST(coalesce(sum(vacancies), 0) AS BIGINT), \
             CAST(coalesce(sum(CASE WHEN occupation = '' THEN vacancies ELSE 0 END), 0) AS BIGINT) FROM vacancy_month",
            &[],
        )?;
        match row {
            Some(r) => Ok((r.int(0)?, r.int(1)?)),
            None => Ok((0, 0)),
        }
    }

    /// Recomputes every monthly sum from the vacancies themselves (a registry written before the
    /// sums existed gets them so, when it is opened). The number of vacancies read.
    pub fn rebuild_vacancy_months(&mut self) -> Result<u64> {
        self.sql.exec("DELETE FROM vacancy_month", &[])?;
        let mut sums: BTreeMap<(String, String, String), VacancyMonthRow> = BTreeMap::new();
        let (mut after, mut read) = (0i64, 0u64);
        loop {
            let rows = self.sql.query(
                &format!("SELECT id, {CONTRIBUTION_COLUMNS} FROM vacancy WHERE id > $1 ORDER BY id LIMIT 50000"),
                &[after.into()],
            )?;
            let Some(last) = rows.last() else { break };
            after = last.int(0)?;
            for r in &rows {
                read += 1;
                for part in contribution_at(r, 1)?.parts()? {
                    sums.entry(part.key()).or_insert_with(|| part.emptied()).add(&part, 1);
                }
            }
        }
        for ((region, occupation, month), s) in sums {
            self.add_to_month(&[
                region.as_str().into(),
                occupation.as_str().into(),
                month.as_str().into(),
                s.vacancies.into(),
                s.inflow.into(),
                s.outflow.into(),
                s.hires.into(),
                s.ended.into(),
                s.duration_days.into(),
            ])?;
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::day_number;

    #[test]
    fn day_numbers_follow_the_calendar() {
        assert_eq!(day_number("1970-01-01").unwrap(), 0);
        assert_eq!(day_number("2000-03-01").unwrap() - day_number("2000-02-28").unwrap(), 2);
        assert_eq!(day_number("2100-03-01").unwrap() - day_number("2100-02-28").unwrap(), 1);
        assert_eq!(day_number("2026-12-06").unwrap(), 20_793);
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "2026-01-00", "20260101xx", "2026-01-3a"] {
            assert!(day_number(bad).is_err(), "{bad}");
        }
    }
}
