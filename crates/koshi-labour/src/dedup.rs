//! Deduplication of vacancy postings within and across sources.
//!
//! The same vacancy reaches the database several times: the national portal and a private portal
//! carry it, an employment centre's export lists it again, a portal is scraped twice, the employer
//! renews it when it expires. Counting demand needs each vacancy once. [`deduplicate`] joins the
//! postings of one vacancy into a cluster, in three passes:
//!
//! 1. **Same source id**: the same `source` and `source_id`.
//! 2. **Exact key**: the same normalised title (the coder's normalisation and stems, in any
//!    order), employer, region and posting date.
//! 3. **Near duplicates**: postings of the same employer in the same region are compared, in order
//!    of posting date, with those posted before them within [`DedupConfig::max_active_days`] +
//!    [`DedupConfig::grace_days`]. A pair is the same vacancy when
//!    * the later one appeared while the earlier one was open, or within
//!      [`DedupConfig::grace_days`] after it expired (a repost); "open" runs to its valid-through
//!      date (at most [`DedupConfig::max_active_days`]) or for [`DedupConfig::default_active_days`]
//!      without one, and ends early on its closed date; a posting filled before the other appeared
//!      is a different vacancy;
//!    * their wages, when both give one in the same currency, overlap (within
//!      [`DedupConfig::wage_tolerance`]); with [`DedupConfig::require_wage_match`] both must give one;
//!    * their occupation codes, when both have one, agree to two digits (unless the titles are
//!      the same words: codes from different coders may differ on one title); and
//!    * their titles are similar: the [`title_similarity`] of the normalised words reaches
//!      [`DedupConfig::title_threshold`] ([`DedupConfig::same_occupation_threshold`] when both
//!      carry the same ISCO-08 unit group and not each an occupation word the other lacks); or the titles are in different languages (a Kazakh and
//!      a Russian version) or have no word in common, and both carry the same unit group, were
//!      posted within [`DedupConfig::cross_language_days`] of each other and give a wage (which
//!      agrees) or the same number of openings.
//!
//! The employer is its BIN, else its normalised name (legal form, quotes and case dropped), and a
//! name seen elsewhere in the same region with exactly one BIN takes that BIN. The region is the resolved region code,
//! else the region or settlement text. Postings without an employer are joined only by the first
//! two passes.
//!
//! Clusters are the connected components of the pairs found (union-find), so a chain of reposts is
//! one vacancy. Each cluster has a representative (the earliest posting; ties: the most complete,
//! then the first in input order) and each member the link by which it joined: the member it
//! matched and the [`Reason`]. Everything is deterministic and depends on input order only through
//! ties. Sorting and blocking make the work O(n log n) plus at most
//! [`DedupConfig::max_comparisons`] comparisons per posting, so millions of postings are fine.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

use serde::Serialize;

use crate::isco::Lang;
use crate::text::{analyse, detect_language};
use crate::vacancy::{Currency, IscoCode, Vacancy, fold};

/// The settings of [`deduplicate`]. The defaults were fixed before the labelled sample was
/// measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DedupConfig {
    /// The least [`title_similarity`] of near duplicates.
    pub title_threshold: f64,
    /// The least [`title_similarity`] of near duplicates that carry the same ISCO-08 unit group.
    pub same_occupation_threshold: f64,
    /// Days after a posting expired within which a posting of the same job is its repost.
    pub grace_days: u32,
    /// How long a posting without a valid-through date counts as open.
    pub default_active_days: u32,
    /// The longest a posting counts as open, whatever its valid-through date says.
    pub max_active_days: u32,
    /// The most days between a posting and its version in another language.
    pub cross_language_days: u32,
    /// Relative slack when comparing wage ranges.
    pub wage_tolerance: f64,
    /// Near duplicates must both give a wage, and agree.
    pub require_wage_match: bool,
    /// The most earlier postings one posting is compared with.
    pub max_comparisons: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            title_threshold: 0.6,
            same_occupation_threshold: 0.5,
            grace_days: 7,
            default_active_days: 30,
            max_active_days: 90,
            cross_language_days: 3,
            wage_tolerance: 0.1,
            require_wage_match: false,
            max_comparisons: 256,
        }
    }
}

/// Why a posting joined a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The same source and id.
    SameSourceId,
    /// The same normalised title, employer, region and posting date.
    ExactKey,
    /// A similar title of the same employer and region, posted while the other was open.
    NearDuplicate { title_similarity: f64, days_apart: u32 },
    /// A similar title of the same employer and region, posted after the other expired or was
    /// closed.
    Repost { title_similarity: f64, days_after_expiry: u32 },
    /// A title in another language or in other words (no word in common), with the same unit
    /// group, employer, region and wage (or openings), posted within a few days.
    Reworded { days_apart: u32 },
}

/// The posting a member matched, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// Index of the posting matched (nearer the representative).
    pub with: usize,
    pub reason: Reason,
}

/// A posting of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// Index in the input.
    pub index: usize,
    /// `None` for the representative.
    pub link: Option<Link>,
}

/// The postings of one vacancy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    pub representative: usize,
    /// All members, the representative among them, in input order.
    pub members: Vec<Member>,
}

/// The result of [`deduplicate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dedup {
    /// For each posting, the index of its cluster's representative (itself when unique).
    pub representative: Vec<usize>,
    /// The clusters of two or more postings, by representative.
    pub clusters: Vec<Cluster>,
}

impl Dedup {
    /// The number of distinct vacancies.
    pub fn unique(&self) -> usize {
        self.representative.iter().enumerate().filter(|(i, r)| i == *r).count()
    }

    /// The postings that are not representatives: the duplicates.
    pub fn duplicates(&self) -> usize {
        self.representative.len() - self.unique()
    }
}

/// Pairwise agreement of a clustering with labelled groups: a pair of postings is predicted
/// when the two share a cluster, and true when they share a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PairScores {
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
}

impl PairScores {
    /// The share of predicted pairs that are true (1 when none is predicted).
    pub fn precision(&self) -> f64 {
        if self.predicted_pairs == 0 { 1.0 } else { self.correct_pairs as f64 / self.predicted_pairs as f64 }
    }

    /// The share of true pairs that are predicted (1 when there are none).
    pub fn recall(&self) -> f64 {
        if self.true_pairs == 0 { 1.0 } else { self.correct_pairs as f64 / self.true_pairs as f64 }
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise precision and recall of `predicted` cluster ids (such as [`Dedup::representative`])
/// against `labels`, in O(n).
pub fn pairwise_scores<L: Eq + Hash, P: Eq + Hash>(labels: &[L], predicted: &[P]) -> PairScores {
    let mut by_label: HashMap<&L, u64> = HashMap::new();
    let mut by_cluster: HashMap<&P, u64> = HashMap::new();
    let mut by_both: HashMap<(&L, &P), u64> = HashMap::new();
    for (l, p) in labels.iter().zip(predicted) {
        *by_label.entry(l).or_default() += 1;
        *by_cluster.entry(p).or_default() += 1;
        *by_both.entry((l, p)).or_default() += 1;
    }
    PairScores {
        true_pairs: by_label.values().map(|&n| pairs(n)).sum(),
        predicted_pairs: by_cluster.values().map(|&n| pairs(n)).sum(),
        correct_pairs: by_both.values().map(|&n| pairs(n)).sum(),
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

/// Words of legal forms and of the names of public bodies' forms, folded.
const LEGAL_FORMS: &str = "\
тоо ао ип ооо зао оао пао гкп гккп ркп кгп кгкп кгу гу ргп ргу пхв ксх кх фх чп нао ну ча оо \
жшс ак мкм мкк ккм кмм шжк шк жк \
товарищество ограниченной ответственностью акционерное общество индивидуальный предприниматель \
государственное коммунальное казенное предприятие учреждение на праве хозяйственного ведения \
частное некоммерческое \
жауапкершилиги шектеули сериктестик акционерлик когамы когам жеке касипкер \
llp jsc llc ltd inc too ao ip plc gmbh co corp company limited liability partnership";

/// Latin letters that look like Cyrillic ones, for names typed with both alphabets ("TOO").
const LOOKALIKE: [(char, char); 12] = [
    ('a', 'а'),
    ('c', 'с'),
    ('e', 'е'),
    ('o', 'о'),
    ('p', 'р'),
    ('x', 'х'),
    ('y', 'у'),
    ('k', 'к'),
    ('m', 'м'),
    ('t', 'т'),
    ('h', 'н'),
    ('b', 'в'),
];

/// An employer's name reduced to compare: folded (case, `ё`, Kazakh letters, punctuation and
/// quotes), words typed with both alphabets mended towards Cyrillic, legal forms ("ТОО", "АО",
/// "ИП", "LLP", "КГУ", "на ПХВ") dropped. "ТОО «Алтын-Строй»" and "Алтын Строй, TOO" give the
/// same key.
pub fn normalise_employer(name: &str) -> String {
    let folded = fold(name);
    folded
        .split_whitespace()
        .map(|w| {
            let cyr = w.chars().any(|c| ('а'..='я').contains(&c));
            if cyr {
                w.chars().map(|c| LOOKALIKE.iter().find(|(l, _)| *l == c).map_or(c, |(_, k)| *k)).collect()
            } else {
                w.to_string()
            }
        })
        .filter(|w| !LEGAL_FORMS.split_whitespace().any(|f| f == w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Copy)]
struct Word {
    id: u32,
    weight: f32,
}

#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(s.to_string(), id);
        self.names.push(s.to_string());
        id
    }
}

const NONE: u32 = u32::MAX;

/// What the passes compare of a posting.
struct Features {
    words: Vec<Word>,
    lang: Lang,
    employer: u32,
    region: u32,
    posted: i32,
    /// The last day the posting counts as open.
    end: i32,
    /// The earlier of the valid-through and closed dates: when the posting was taken down.
    expiry: Option<i32>,
    filled: Option<i32>,
    wage: Option<(f64, f64, Option<Currency>)>,
    occupation: Option<IscoCode>,
    openings: Option<u32>,
}

fn words_of(title: &str, stems: &mut Interner) -> Vec<Word> {
    let mut words: Vec<Word> =
        analyse(title).into_iter().map(|w| Word { id: stems.id(&w.stem), weight: w.kind.factor() as f32 }).collect();
    if words.is_empty() {
        let folded = fold(title);
        if !folded.is_empty() {
            words.push(Word { id: stems.id(&format!("\u{1}{folded}")), weight: 1.0 });
        }
    }
    words.sort_by(|a, b| a.id.cmp(&b.id).then(b.weight.total_cmp(&a.weight)));
    words.dedup_by_key(|w| w.id);
    words
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Two stems of one word in different forms or spellings: both at least 4 letters and differing
/// only in their last one or two ("уборщик" / "уборщиц"); or the shorter, of at least 6 letters,
/// the start of the longer with up to 3 letters more ("экскаватор" / "экскаваторщик"); or both of
/// at least 6 letters and one typing slip apart (a letter missing, added, changed or two swapped:
/// "электромонтажник" / "элекромонтажник").
fn stems_close(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let p = common_prefix(a, b);
    let (short, long) = (la.min(lb), la.max(lb));
    (short >= 4 && p >= 4 && la - p <= 2 && lb - p <= 2)
        || (short >= 6 && p == short && long - short <= 3)
        || (short >= 6 && long - short <= 1 && one_slip(a, b))
}

/// Whether two words are at most one edit apart (insertion, deletion, substitution or the swap of
/// two neighbouring letters).
fn one_slip(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let p = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let s = a[p..].iter().rev().zip(b[p..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (a.len() - p - s, b.len() - p - s);
    match (ra, rb) {
        (0, 0) | (0, 1) | (1, 0) | (1, 1) => true,
        (2, 2) => a[p] == b[p + 1] && a[p + 1] == b[p],
        _ => false,
    }
}

/// The similarity of two titles' words, and whether each has an occupation word the other lacks
/// ("учитель английского" / "учитель казахского": a conflict that no shared word outweighs).
fn similarity(a: &[Word], b: &[Word], stems: &[String]) -> (f64, bool) {
    if a.is_empty() || b.is_empty() {
        return (0.0, false);
    }
    let total_a: f64 = a.iter().map(|w| w.weight as f64).sum();
    let total_b: f64 = b.iter().map(|w| w.weight as f64).sum();
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    let mut common = 0.0;
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].id.cmp(&b[j].id) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += a[i].weight.min(b[j].weight) as f64;
                used_a[i] = true;
                used_b[j] = true;
                i += 1;
                j += 1;
            }
        }
    }
    for (i, wa) in a.iter().enumerate() {
        if used_a[i] {
            continue;
        }
        let sa = &stems[wa.id as usize];
        if let Some(j) = (0..b.len()).find(|&j| !used_b[j] && stems_close(sa, &stems[b[j].id as usize])) {
            used_a[i] = true;
            used_b[j] = true;
            common += 0.9 * wa.weight.min(b[j].weight) as f64;
        }
    }
    let union = total_a + total_b - common;
    let jaccard = if union > 0.0 { common / union } else { 0.0 };
    let containment = common / total_a.min(total_b);
    let own_word = |words: &[Word], used: &[bool]| words.iter().zip(used).any(|(w, &u)| !u && w.weight >= 1.0);
    (((jaccard + containment) / 2.0).min(1.0), own_word(a, &used_a) && own_word(b, &used_b))
}

/// How alike two job titles are, in [0, 1]: their words normalised and stemmed as the occupation
/// coder does (so "Продавца-консультанта" and "продавец консультант" are the same), each word
/// weighing what it says (rank and place of work less), the mean of the weighted Jaccard index and
/// the share of the shorter title found in the longer.
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let mut stems = Interner::default();
    let wa = words_of(a, &mut stems);
    let wb = words_of(b, &mut stems);
    similarity(&wa, &wb, &stems.names).0
}

// ---------------------------------------------------------------------------------------------
// Union-find
// ---------------------------------------------------------------------------------------------

struct UnionFind {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind { parent: (0..n as u32).collect(), rank: vec![0; n] }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`; `false` when they were one already.
    fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (big, small) = if self.rank[ra as usize] >= self.rank[rb as usize] { (ra, rb) } else { (rb, ra) };
        self.parent[small as usize] = big;
        if self.rank[big as usize] == self.rank[small as usize] {
            self.rank[big as usize] += 1;
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// The passes
// ---------------------------------------------------------------------------------------------

struct Pass<'c> {
    config: &'c DedupConfig,
    features: Vec<Features>,
    stems: Vec<String>,
    sets: UnionFind,
    edges: Vec<(u32, u32, Reason)>,
}

impl Pass<'_> {
    fn join(&mut self, a: usize, b: usize, reason: Reason) {
        if self.sets.union(a as u32, b as u32) {
            self.edges.push((a as u32, b as u32, reason));
        }
    }

    fn wages_agree(&self, a: usize, b: usize) -> bool {
        let (fa, fb) = (&self.features[a], &self.features[b]);
        match (fa.wage, fb.wage) {
            (Some((lo_a, hi_a, ca)), Some((lo_b, hi_b, cb))) => {
                if ca.is_some() && cb.is_some() && ca != cb {
                    return true;
                }
                let t = 1.0 + self.config.wage_tolerance;
                lo_a <= hi_b * t && lo_b <= hi_a * t
            }
            _ => !self.config.require_wage_match,
        }
    }

    /// Whether `b`, posted no earlier than `a`, is the same vacancy, and why.
    fn compare(&self, a: usize, b: usize) -> Option<Reason> {
        let c = self.config;
        let (fa, fb) = (&self.features[a], &self.features[b]);
        if fa.filled.is_some_and(|filled| fb.posted > filled) {
            return None;
        }
        if fb.posted > fa.end + c.grace_days as i32 {
            return None;
        }
        if !self.wages_agree(a, b) {
            return None;
        }
        let days_apart = (fb.posted - fa.posted) as u32;
        let (sim, conflict) = similarity(&fa.words, &fb.words, &self.stems);
        let same_code = fa.occupation.is_some() && fa.occupation == fb.occupation;
        // Codes from different coders may disagree on the same title; on different titles a
        // disagreement to two digits means different jobs.
        if let (Some(oa), Some(ob)) = (fa.occupation, fb.occupation)
            && oa.prefix(2) != ob.prefix(2)
            && sim < 0.9
        {
            return None;
        }
        let threshold =
            if same_code && !conflict { c.same_occupation_threshold.min(c.title_threshold) } else { c.title_threshold };
        if sim >= threshold {
            return Some(match fa.expiry {
                Some(v) if fb.posted > v => {
                    Reason::Repost { title_similarity: round3(sim), days_after_expiry: (fb.posted - v) as u32 }
                }
                _ => Reason::NearDuplicate { title_similarity: round3(sim), days_apart },
            });
        }
        let same_terms =
            (fa.wage.is_some() && fb.wage.is_some()) || (fa.openings.is_some() && fa.openings == fb.openings);
        if (fa.lang != fb.lang || sim == 0.0) && same_code && days_apart <= c.cross_language_days && same_terms {
            return Some(Reason::Reworded { days_apart });
        }
        None
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The employer keys: BIN, else the normalised name, a name seen in the same region with exactly
/// one BIN taking it (names repeat across regions: "school No. 12" is in every one).
fn employer_keys(postings: &[Vacancy], regions: &[String]) -> Vec<Option<String>> {
    let names: Vec<Option<String>> =
        postings.iter().map(|v| v.employer.name.as_deref().map(normalise_employer).filter(|n| !n.is_empty())).collect();
    // (name, region) → its BIN, or None once two BINs were seen with it.
    let mut bin_of_name: HashMap<(&str, &str), Option<&str>> = HashMap::new();
    for ((v, name), region) in postings.iter().zip(&names).zip(regions) {
        if let (Some(bin), Some(name)) = (&v.employer.bin, name) {
            bin_of_name
                .entry((name.as_str(), region.as_str()))
                .and_modify(|known| {
                    if *known != Some(bin.as_str()) {
                        *known = None;
                    }
                })
                .or_insert(Some(bin.as_str()));
        }
    }
    postings
        .iter()
        .zip(&names)
        .zip(regions)
        .map(|((v, name), region)| match (&v.employer.bin, name) {
            (Some(bin), _) => Some(format!("b:{bin}")),
            (None, Some(name)) => match bin_of_name.get(&(name.as_str(), region.as_str())) {
                Some(Some(bin)) => Some(format!("b:{bin}")),
                _ => Some(format!("n:{name}")),
            },
            (None, None) => None,
        })
        .collect()
}

fn region_key(v: &Vacancy) -> String {
    match v.resolved_region() {
        Some(r) => r.as_str().to_string(),
        None => {
            let text = v.region.as_deref().or(v.settlement.as_deref()).map(fold).unwrap_or_default();
            format!("t:{text}")
        }
    }
}

/// Joins the postings of each vacancy into a cluster; see the module documentation.
pub fn deduplicate(postings: &[Vacancy], config: &DedupConfig) -> Dedup {
    let n = postings.len();
    let mut stems = Interner::default();
    let mut employers = Interner::default();
    let mut regions = Interner::default();
    let region_keys: Vec<String> = postings.iter().map(region_key).collect();
    let keys = employer_keys(postings, &region_keys);
    let features: Vec<Features> = postings
        .iter()
        .zip(&keys)
        .zip(&region_keys)
        .map(|((v, key), region)| {
            let posted = v.posted.days();
            let expiry = match (v.valid_through, v.closed) {
                (Some(a), Some(b)) => Some(a.min(b).days()),
                (a, b) => a.or(b).map(|d| d.days()),
            };
            let end = match expiry {
                Some(d) => d.clamp(posted, posted + config.max_active_days as i32),
                None => posted + config.default_active_days as i32,
            };
            let wage = v.wage.as_ref().and_then(|w| {
                let (lo, hi) = w.monthly_range().or(match (w.min, w.max) {
                    (Some(lo), Some(hi)) => Some((lo, hi)),
                    (Some(x), None) | (None, Some(x)) => Some((x, x)),
                    _ => None,
                })?;
                Some((lo, hi, w.currency))
            });
            Features {
                words: words_of(&v.title, &mut stems),
                lang: detect_language(&v.title),
                employer: key.as_deref().map_or(NONE, |k| employers.id(k)),
                region: regions.id(region),
                posted,
                end,
                expiry,
                filled: v.filled.map(|d| d.days()),
                wage,
                occupation: v.occupation,
                openings: v.openings,
            }
        })
        .collect();
    let mut pass = Pass { config, features, stems: stems.names, sets: UnionFind::new(n), edges: Vec::new() };

    // 1. The same source and id.
    let mut first_of_id: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, v) in postings.iter().enumerate() {
        match first_of_id.get(&(v.source.as_str(), v.source_id.as_str())) {
            Some(&first) => pass.join(first, i, Reason::SameSourceId),
            None => {
                first_of_id.insert((v.source.as_str(), v.source_id.as_str()), i);
            }
        }
    }
    drop(first_of_id);

    // 2. The same title words, employer, region and date.
    let mut first_of_key: HashMap<(Vec<u32>, u32, u32, i32), usize> = HashMap::new();
    for i in 0..n {
        let f = &pass.features[i];
        if f.employer == NONE {
            continue;
        }
        let key = (f.words.iter().map(|w| w.id).collect::<Vec<_>>(), f.employer, f.region, f.posted);
        match first_of_key.get(&key) {
            Some(&first) => {
                if pass.wages_agree(first, i) {
                    pass.join(first, i, Reason::ExactKey);
                }
            }
            None => {
                first_of_key.insert(key, i);
            }
        }
    }
    drop(first_of_key);

    // 3. Near duplicates within blocks of one employer and region, by date.
    let mut order: Vec<u32> = (0..n as u32).filter(|&i| pass.features[i as usize].employer != NONE).collect();
    order.sort_by_key(|&i| {
        let f = &pass.features[i as usize];
        (f.employer, f.region, f.posted, i)
    });
    let window = (config.max_active_days + config.grace_days) as i32;
    let mut block_start = 0;
    for pos in 0..order.len() {
        let b = order[pos] as usize;
        let (eb, rb, pb) = (pass.features[b].employer, pass.features[b].region, pass.features[b].posted);
        let first = &pass.features[order[block_start] as usize];
        if first.employer != eb || first.region != rb {
            block_start = pos;
        }
        for (compared, back) in (block_start..pos).rev().enumerate() {
            let a = order[back] as usize;
            if pb - pass.features[a].posted > window || compared >= config.max_comparisons {
                break;
            }
            if pass.sets.find(a as u32) == pass.sets.find(b as u32) {
                continue;
            }
            if let Some(reason) = pass.compare(a, b) {
                pass.join(a, b, reason);
            }
        }
    }

    // Representatives: the earliest posting, then the most complete, then the first.
    let mut members_of: HashMap<u32, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let root = pass.sets.find(i as u32);
        members_of.entry(root).or_default().push(i);
    }
    let mut representative: Vec<usize> = (0..n).collect();
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for members in members_of.into_values() {
        let rep = *members
            .iter()
            .min_by_key(|&&i| (postings[i].posted, std::cmp::Reverse(postings[i].completeness()), i))
            .unwrap_or(&members[0]);
        for &m in &members {
            representative[m] = rep;
        }
        if members.len() > 1 {
            groups.push((rep, members));
        }
    }
    groups.sort_by_key(|(rep, _)| *rep);

    // Each member's link: the edge by which it is reached from the representative.
    let mut adjacency: HashMap<u32, Vec<(u32, usize)>> = HashMap::new();
    for (e, (a, b, _)) in pass.edges.iter().enumerate() {
        adjacency.entry(*a).or_default().push((*b, e));
        adjacency.entry(*b).or_default().push((*a, e));
    }
    for list in adjacency.values_mut() {
        list.sort_unstable();
    }
    let clusters = groups
        .into_iter()
        .map(|(rep, members)| {
            let mut link: HashMap<usize, Link> = HashMap::new();
            let mut queue = VecDeque::from([rep as u32]);
            let mut seen = HashSet::from([rep]);
            while let Some(x) = queue.pop_front() {
                for &(y, e) in adjacency.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
                    if !seen.insert(y as usize) {
                        continue;
                    }
                    link.insert(y as usize, Link { with: x as usize, reason: pass.edges[e].2.clone() });
                    queue.push_back(y);
                }
            }
            let members = members.into_iter().map(|index| Member { index, link: link.remove(&index) }).collect();
            Cluster { representative: rep, members }
        })
        .collect();
    Dedup { representative, clusters }
}
