//! The registry's figures by month: workers covered by permits issued, extended, refused (by
//! ground), revoked and expired, by region, category and citizenship. Counted from the records,
//! never from personal data.

use std::collections::BTreeMap;

use koshi_registry::{ApplicationStatus, Filter, PermitStatus, Role};
use serde::Serialize;

use super::RegistryService;
use super::auth::Actor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MonthlyRow {
    /// `YYYY-MM`.
    pub month: String,
    pub region: String,
    pub category: String,
    pub nationality: String,
    /// `issued`, `extended`, `refused`, `revoked`, `expired`.
    pub measure: String,
    /// For `refused`: the ground; empty otherwise.
    pub ground: String,
    /// Workers.
    pub workers: i64,
}

fn month_of(seconds: i64) -> String {
    let d = super::day_of(seconds);
    format!("{:04}-{:02}", d.year, d.month)
}

impl RegistryService {
    /// The registry's monthly figures for `year` (all months with any). For analysts,
    /// administrators and officers; the public reads them once published into the bank.
    pub fn monthly(&self, actor: &Actor, year: i32) -> Result<Vec<MonthlyRow>> {
        actor.require(&[Role::Admin, Role::Analyst, Role::Officer], "read the registry's figures")?;
        let prefix = format!("{year:04}-");
        let mut counts: BTreeMap<(String, String, String, String, String, String), i64> = BTreeMap::new();
        let scope = koshi_registry::Scope::System;
        let mut after = None;
        loop {
            let batch = self.store.read(&scope, |tx| {
                tx.applications(&Filter { after, limit: koshi_registry::MAX_PAGE, ..Filter::default() })
            })?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            for a in &batch {
                let Some(decided) = a.decided_at else { continue };
                let month = month_of(decided);
                if !month.starts_with(&prefix) {
                    continue;
                }
                let mut add = |measure: &str, ground: &str| {
                    let key = (
                        month.clone(),
                        a.region.clone(),
                        a.category.clone(),
                        a.nationality.clone(),
                        measure.to_string(),
                        ground.to_string(),
                    );
                    *counts.entry(key).or_insert(0) += a.workers;
                };
                match (a.status, a.kind.as_str()) {
                    (ApplicationStatus::Granted, "extension") => add("extended", ""),
                    (ApplicationStatus::Granted, _) => add("issued", ""),
                    (ApplicationStatus::Refused, _) => {
                        for ground in a.grounds.as_deref().unwrap_or("").split(',').filter(|g| !g.is_empty()) {
                            add("refused", ground);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut after = None;
        loop {
            let batch = self.store.read(&scope, |tx| {
                tx.permits(&Filter { after, limit: koshi_registry::MAX_PAGE, ..Filter::default() })
            })?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            for p in &batch {
                let (Some(closed), measure) = (
                    p.closed_at,
                    match p.status {
                        PermitStatus::Revoked => "revoked",
                        PermitStatus::Expired => "expired",
                        PermitStatus::Active => continue,
                    },
                ) else {
                    continue;
                };
                let month = month_of(closed);
                if month.starts_with(&prefix) {
                    let key = (
                        month,
                        p.region.clone(),
                        p.category.clone(),
                        p.nationality.clone(),
                        measure.to_string(),
                        String::new(),
                    );
                    *counts.entry(key).or_insert(0) += p.workers;
                }
            }
        }
        Ok(counts
            .into_iter()
            .map(|((month, region, category, nationality, measure, ground), workers)| MonthlyRow {
                month,
                region,
                category,
                nationality,
                measure,
                ground,
                workers,
            })
            .collect())
    }
}
