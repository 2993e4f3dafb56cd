//! Shortage assessment of occupations by area: which occupations are "in demand", "balanced" or "not in
//! demand" in a region, each assessment with its rule and version, the figures it used and its reasons in
//! English, Russian and Kazakh. The output feeds the permit engine's labour-market test and the published
//! statistics.
//!
//! Two methods, both with their parameters as dated, cited data in `data/labour/shortage/rules.toml`
//! ([`RULES_TOML`]), read by [`ShortageRules`]:
//!
//! * [`WashingtonRule`]: the Occupations in Demand rule of the Washington State Employment Security
//!   Department, 2013 and 2016 methodology, implemented as written. Per time frame (five-year, ten-year,
//!   two-year with ten-year projections) an occupation is "in demand" when its average annual growth rate is
//!   at least 90 % of its area's and its share of the area's openings at least 0.08 %, "not in demand" when
//!   its growth is below 70 % of the area's and its share below 1 %. Any in-demand frame gives a provisional
//!   "in demand", any not-in-demand frame a provisional "not in demand"; both make it "balanced". Where the
//!   text is silent the project reads it, and says so in the reasons ([`Clause::is_project_reading`]):
//!   neither identification is "balanced"; a missing figure is "insufficient data"; a negative area growth
//!   rate is multiplied as it is (90 % of −2 % is −1.8 %, *above* the area's rate, so an occupation
//!   shrinking more slowly than its area can be "not in demand", and one frame can meet both tests).
//! * [`CompositeIndex`]: a configurable index. Within each area every indicator is ranked among the area's
//!   occupations (ties get their average rank) and turned into a percentile, the percentiles are combined
//!   with the configuration's weights (re-normalised over the indicators an occupation has), and the
//!   combined score is ranked again and cut into shares (by default Washington's 2007 Demand/Decline split:
//!   top 30 % in demand, bottom 50 % not in demand), or the raw indicators are compared with absolute
//!   thresholds.
//!
//! Local adjustments ([`Adjustment`], [`apply_adjustments`]) change a status after the rule, as the
//! Washington councils do, and stay visible: the assessment keeps the rule's status and the adjustment.
//!
//! **Arithmetic.** Rates and shares are fractions (0.9 is 90 %). The Washington comparisons read each
//! number as the decimal it prints as (Rust's shortest round-trip form), so a growth of 0.018 is exactly
//! 90 % of 0.02 although `0.9 * 0.02` is 0.018000000000000002 in binary floating point; a share
//! `openings / area_openings ≥ 0.0008` is tested as `openings ≥ 0.0008 × area_openings`. Numbers too long
//! for that fall back to floating point. In the same way a configuration's weights must sum to exactly 1 as
//! decimals, and the composite scores are ranked as exact fractions, so that two occupations whose weighted
//! ranks are equal tie however the floating-point sums round.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::isco::Lang;
use crate::vacancy::Date;

/// The bundled rules: sources, indicators, the Washington rule's versions and the composite indices.
pub const RULES_TOML: &str = include_str!("../../../data/labour/shortage/rules.toml");
const RULES_FILE: &str = "rules.toml";

// ---------------------------------------------------------------------------------------------
// Errors and diagnostics
// ---------------------------------------------------------------------------------------------

/// A rules or adjustments file that cannot be used: every configuration in it must be sound, since its
/// output decides permits and is published.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShortageError {
    #[error("{file}: not TOML: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: `{key}` is missing")]
    Missing { file: String, key: String },
    #[error("{file}: `{key}` should be {expected}")]
    WrongType { file: String, key: String, expected: &'static str },
    #[error("{file}: `{key}`: {message}")]
    BadValue { file: String, key: String, message: String },
    #[error("{file}: `{key}` names source `{name}`, which is not under [sources]")]
    UnknownSource { file: String, key: String, name: String },
    #[error("{file}: `{key}` names indicator `{name}`, which is not under [indicators]")]
    UnknownIndicator { file: String, key: String, name: String },
    #[error("{file}: the weights of configuration `{config}` (version from {from}) sum to {sum}, not 1")]
    WeightSum { file: String, config: String, from: Date, sum: String },
    #[error("{file}: the versions of `{id}` from {first} and from {second} overlap")]
    Overlap { file: String, id: String, first: Date, second: Date },
}

/// Something in a rules file that does not stop it from being used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShortageProblem {
    /// A key the reader does not know (ignored).
    UnknownKey,
    /// A source without an address (kept).
    NoAddress,
}

/// One problem, where it was found: the file and the dotted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShortageDiagnostic {
    pub file: String,
    pub key: String,
    pub problem: ShortageProblem,
}

impl fmt::Display for ShortageDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problem {
            ShortageProblem::UnknownKey => write!(f, "{}: unknown key `{}` ignored", self.file, self.key),
            ShortageProblem::NoAddress => write!(f, "{}: source `{}` has no address", self.file, self.key),
        }
    }
}

/// Data read from a rules or adjustments file, with the problems that did not stop it.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    pub value: T,
    pub diagnostics: Vec<ShortageDiagnostic>,
}

// ---------------------------------------------------------------------------------------------
// Statuses, clauses, figures, references
// ---------------------------------------------------------------------------------------------

/// What an assessment says of an occupation in an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InDemand,
    Balanced,
    NotInDemand,
    /// Not assessed by the rule: suppressed, too small, or a repeated row.
    Excluded,
    InsufficientData,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::InDemand, Status::Balanced, Status::NotInDemand, Status::Excluded, Status::InsufficientData];

    /// The snake_case name it serialises as.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InDemand => "in_demand",
            Status::Balanced => "balanced",
            Status::NotInDemand => "not_in_demand",
            Status::Excluded => "excluded",
            Status::InsufficientData => "insufficient_data",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// The status as said of an occupation (профессия, кәсіп).
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Status::InDemand, Lang::En) => "in demand",
            (Status::InDemand, Lang::Ru) => "востребована",
            (Status::InDemand, Lang::Kk) => "сұранысқа ие",
            (Status::Balanced, Lang::En) => "balanced",
            (Status::Balanced, Lang::Ru) => "сбалансирована",
            (Status::Balanced, Lang::Kk) => "теңгерімді",
            (Status::NotInDemand, Lang::En) => "not in demand",
            (Status::NotInDemand, Lang::Ru) => "не востребована",
            (Status::NotInDemand, Lang::Kk) => "сұранысқа ие емес",
            (Status::Excluded, Lang::En) => "excluded",
            (Status::Excluded, Lang::Ru) => "исключена из оценки",
            (Status::Excluded, Lang::Kk) => "бағалаудан шығарылды",
            (Status::InsufficientData, Lang::En) => "insufficient data",
            (Status::InsufficientData, Lang::Ru) => "недостаточно данных",
            (Status::InsufficientData, Lang::Kk) => "деректер жеткіліксіз",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of a rule a reason applies: a clause of the published text, a reading of the project where the
/// text is silent, or a step of the composite index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Clause {
    /// Washington: only unsuppressed occupations are included.
    Unsuppressed,
    /// Washington: base-year employment of at least the minimum (50).
    BaseEmployment,
    /// Washington, step one: growth ≥ 90 % of the area's and share of openings ≥ 0.08 %.
    Step1InDemand,
    /// Washington, step one: growth < 70 % of the area's and share of openings < 1 %.
    Step1NotInDemand,
    /// Washington, step two: "in demand" in any time frame gives a provisional "in demand".
    ProvisionalInDemand,
    /// Washington, step two: "not in demand" in any time frame gives a provisional "not in demand".
    ProvisionalNotInDemand,
    /// Washington, step two (three in 2016): both provisional identifications are re-identified "balanced".
    BothBalanced,
    /// Project's reading: neither provisional identification is "balanced".
    NeitherBalanced,
    /// Project's reading: a negative area growth rate is multiplied literally.
    NegativeAreaGrowth,
    /// Project's reading: a missing or unusable figure gives "insufficient data".
    MissingFigures,
    /// Washington's final list: local councils review, adjust and approve (both methods).
    LocalAdjustment,
    /// Composite: a repeated area and occupation (the later row is excluded).
    DuplicateRow,
    /// Composite: a value that is not a finite number counts as missing.
    NotFinite,
    /// Composite: an indicator's rank and percentile within the area.
    IndicatorRank,
    /// Composite: weights re-normalised over the indicators available.
    Renormalised,
    /// Composite: fewer indicators than the configuration's minimum.
    TooFewIndicators,
    /// Composite: the combined score's rank cut into shares.
    RankShare,
    /// Composite: absolute thresholds on indicators.
    Thresholds,
}

impl Clause {
    /// The clauses of the Washington rule, in the order they apply.
    pub const WASHINGTON: [Clause; 11] = [
        Clause::Unsuppressed,
        Clause::BaseEmployment,
        Clause::MissingFigures,
        Clause::NegativeAreaGrowth,
        Clause::Step1InDemand,
        Clause::Step1NotInDemand,
        Clause::ProvisionalInDemand,
        Clause::ProvisionalNotInDemand,
        Clause::BothBalanced,
        Clause::NeitherBalanced,
        Clause::LocalAdjustment,
    ];

    /// The steps of the composite index.
    pub const COMPOSITE: [Clause; 8] = [
        Clause::DuplicateRow,
        Clause::NotFinite,
        Clause::TooFewIndicators,
        Clause::IndicatorRank,
        Clause::Renormalised,
        Clause::RankShare,
        Clause::Thresholds,
        Clause::LocalAdjustment,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Clause::Unsuppressed => "included.unsuppressed",
            Clause::BaseEmployment => "included.base_employment",
            Clause::Step1InDemand => "step1.in_demand",
            Clause::Step1NotInDemand => "step1.not_in_demand",
            Clause::ProvisionalInDemand => "step2.provisional_in_demand",
            Clause::ProvisionalNotInDemand => "step2.provisional_not_in_demand",
            Clause::BothBalanced => "step2.both_balanced",
            Clause::NeitherBalanced => "reading.neither_balanced",
            Clause::NegativeAreaGrowth => "reading.negative_area_growth",
            Clause::MissingFigures => "reading.missing_figures",
            Clause::LocalAdjustment => "final.local_adjustment",
            Clause::DuplicateRow => "input.duplicate",
            Clause::NotFinite => "input.not_finite",
            Clause::IndicatorRank => "composite.indicator_rank",
            Clause::Renormalised => "composite.renormalised",
            Clause::TooFewIndicators => "composite.too_few_indicators",
            Clause::RankShare => "composite.rank_share",
            Clause::Thresholds => "composite.thresholds",
        }
    }

    pub fn parse(id: &str) -> Option<Clause> {
        Clause::WASHINGTON.into_iter().chain(Clause::COMPOSITE).find(|c| c.id() == id.trim())
    }

    /// A rule the project added where the published text is silent (not the text itself).
    pub fn is_project_reading(self) -> bool {
        matches!(
            self,
            Clause::NeitherBalanced
                | Clause::NegativeAreaGrowth
                | Clause::MissingFigures
                | Clause::DuplicateRow
                | Clause::NotFinite
                | Clause::Renormalised
                | Clause::TooFewIndicators
        )
    }
}

impl Serialize for Clause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A named number an assessment used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
}

/// Which rule and which version of it made an assessment, and where it is published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRef {
    pub id: String,
    /// The first day of the version (its effective date).
    pub version_from: Date,
    pub version_until: Option<Date>,
    /// The methodology the version follows ("2016", "summer 2007").
    pub methodology: String,
    /// The address of the published methodology.
    pub source: String,
}

/// A published text a rule comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub key: String,
    pub publisher: String,
    pub title: String,
    pub address: String,
    pub methodology: String,
    pub note: Option<String>,
}

/// A parameter of a rule, with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub value: f64,
    /// The part of the published text the value is read from.
    pub clause: String,
    pub source: String,
    /// The address and methodology year of the source, repeated on the parameter.
    pub address: String,
    pub methodology: String,
}

/// A text in the three languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub id: String,
    pub en: String,
    pub ru: String,
    pub kk: String,
}

impl Label {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
            Lang::Kk => &self.kk,
        }
    }
}

/// Which way an indicator points to shortage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A higher value means more shortage (vacancies, their growth, their duration, wage growth).
    Higher,
    /// A lower value means more shortage (seekers per vacancy, change in seekers).
    Lower,
}

/// A named input of the composite index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub label: Label,
    pub direction: Direction,
    pub note: Option<String>,
}

impl Indicator {
    pub fn id(&self) -> &str {
        &self.label.id
    }
}

// ---------------------------------------------------------------------------------------------
// Reasons
// ---------------------------------------------------------------------------------------------

/// A time frame of Washington's projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Frame {
    FiveYear,
    TenYear,
    /// Two-year (short-term) projections combined with the ten-year ones.
    TwoTenYear,
}

impl Frame {
    pub const ALL: [Frame; 3] = [Frame::FiveYear, Frame::TenYear, Frame::TwoTenYear];

    pub fn as_str(self) -> &'static str {
        match self {
            Frame::FiveYear => "five_year",
            Frame::TenYear => "ten_year",
            Frame::TwoTenYear => "two_ten_year",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Frame::FiveYear, Lang::En) => "Five-year projections",
            (Frame::FiveYear, Lang::Ru) => "Пятилетний прогноз",
            (Frame::FiveYear, Lang::Kk) => "Бесжылдық болжам",
            (Frame::TenYear, Lang::En) => "Ten-year projections",
            (Frame::TenYear, Lang::Ru) => "Десятилетний прогноз",
            (Frame::TenYear, Lang::Kk) => "Онжылдық болжам",
            (Frame::TwoTenYear, Lang::En) => "Two-year and ten-year projections combined",
            (Frame::TwoTenYear, Lang::Ru) => "Двухлетний и десятилетний прогнозы вместе",
            (Frame::TwoTenYear, Lang::Kk) => "Екіжылдық және онжылдық болжамдар бірге",
        }
    }
}

/// A figure of the Washington rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    BaseEmployment,
    GrowthRate,
    Openings,
    AreaGrowthRate,
    AreaOpenings,
}

impl Field {
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::BaseEmployment, Lang::En) => "Base-year employment",
            (Field::BaseEmployment, Lang::Ru) => "Занятость в базовом году",
            (Field::BaseEmployment, Lang::Kk) => "Базалық жылдағы жұмыспен қамтылғандар саны",
            (Field::GrowthRate, Lang::En) => "the average annual growth rate",
            (Field::GrowthRate, Lang::Ru) => "среднегодовой темп роста",
            (Field::GrowthRate, Lang::Kk) => "орташа жылдық өсу қарқыны",
            (Field::Openings, Lang::En) => "the job openings",
            (Field::Openings, Lang::Ru) => "открывающиеся рабочие места",
            (Field::Openings, Lang::Kk) => "ашылатын жұмыс орындары",
            (Field::AreaGrowthRate, Lang::En) => "the area's average annual growth rate",
            (Field::AreaGrowthRate, Lang::Ru) => "среднегодовой темп роста по территории",
            (Field::AreaGrowthRate, Lang::Kk) => "аумақтың орташа жылдық өсу қарқыны",
            (Field::AreaOpenings, Lang::En) => "the area's total job openings",
            (Field::AreaOpenings, Lang::Ru) => "все открывающиеся рабочие места территории",
            (Field::AreaOpenings, Lang::Kk) => "аумақтағы барлық ашылатын жұмыс орындары",
        }
    }
}

/// What is wrong with a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    /// Not given, or not a finite number.
    Missing,
    /// Zero or negative where a share of it is taken.
    NotPositive,
    /// Negative where only a count makes sense.
    Negative,
}

/// A comparison of an indicator with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    AtLeast,
    Above,
    AtMost,
    Below,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::AtLeast => "≥",
            Op::Above => ">",
            Op::AtMost => "≤",
            Op::Below => "<",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        let order = compare_scaled(value, 1.0, threshold);
        match self {
            Op::AtLeast => order != Ordering::Less,
            Op::Above => order == Ordering::Greater,
            Op::AtMost => order != Ordering::Greater,
            Op::Below => order == Ordering::Less,
        }
    }
}

/// What a reason says, with its numbers; [`Reason::text`] writes it in a language.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReasonDetail {
    Suppressed,
    BaseEmployment {
        employment: f64,
        minimum: f64,
        included: bool,
    },
    Unusable {
        frame: Option<Frame>,
        field: Field,
        defect: Defect,
    },
    /// One of step one's two tests in one time frame.
    FrameTest {
        frame: Frame,
        /// `in_demand` or `not_in_demand`: which test.
        test: Status,
        growth_rate: f64,
        area_growth_rate: f64,
        growth_factor: f64,
        growth_threshold: f64,
        growth_met: bool,
        openings_share: f64,
        share_threshold: f64,
        share_met: bool,
        met: bool,
    },
    NegativeAreaGrowth {
        frame: Frame,
        area_growth_rate: f64,
        in_demand_threshold: f64,
        not_in_demand_threshold: f64,
    },
    Provisional {
        status: Status,
        frames: Vec<Frame>,
    },
    Confirmed {
        status: Status,
    },
    BothBalanced,
    NeitherBalanced,
    Duplicate,
    NotFinite {
        indicator: Label,
    },
    IndicatorRank {
        indicator: Label,
        direction: Direction,
        value: f64,
        /// 1 is the most shortage in the area; ties share their average rank.
        rank: f64,
        count: usize,
        /// 0 to 1, 1 the most shortage.
        percentile: f64,
        /// The weight used, after re-normalisation.
        weight: f64,
    },
    Renormalised {
        missing: Vec<Label>,
        available: usize,
        available_weight: f64,
    },
    TooFewIndicators {
        available: usize,
        minimum: usize,
        missing: Vec<Label>,
    },
    ConditionMissing {
        indicator: Label,
    },
    RankShare {
        score: f64,
        rank: f64,
        count: usize,
        /// rank / count: the share of the area's occupations ranked at or above this one.
        share: f64,
        top: f64,
        bottom: f64,
        status: Status,
    },
    Condition {
        /// `in_demand` or `not_in_demand`: which list of thresholds.
        side: Status,
        indicator: Label,
        op: Op,
        value: f64,
        threshold: f64,
        met: bool,
    },
    ThresholdOutcome {
        in_demand: bool,
        not_in_demand: bool,
        status: Status,
    },
    LocalAdjustment {
        from: Status,
        to: Status,
        by: String,
        date: Date,
        reason: String,
    },
}

/// Why an assessment came out as it did: the clause applied and what it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub clause: Clause,
    pub detail: ReasonDetail,
}

/// The reason in the three languages, as serialised.
#[derive(Serialize)]
struct Texts {
    en: String,
    ru: String,
    kk: String,
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Reason", 3)?;
        st.serialize_field("clause", &self.clause)?;
        st.serialize_field("detail", &self.detail)?;
        let texts = Texts { en: self.text(Lang::En), ru: self.text(Lang::Ru), kk: self.text(Lang::Kk) };
        st.serialize_field("text", &texts)?;
        st.end()
    }
}

/// A number as text: integers as they are, others to six significant digits; a decimal comma in Russian
/// and Kazakh.
fn number(x: f64, lang: Lang) -> String {
    if !x.is_finite() {
        return match lang {
            Lang::En => "n/a",
            Lang::Ru => "н/д",
            Lang::Kk => "жоқ",
        }
        .to_string();
    }
    let text = if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let magnitude = x.abs().log10().floor() as i32;
        let decimals = (5 - magnitude).clamp(0, 12) as usize;
        let fixed = format!("{x:.decimals$}");
        let trimmed = if fixed.contains('.') { fixed.trim_end_matches('0').trim_end_matches('.') } else { &fixed };
        if trimmed == "-0" { "0".to_string() } else { trimmed.to_string() }
    };
    match lang {
        Lang::En => text,
        Lang::Ru | Lang::Kk => text.replace('.', ","),
    }
}

/// A fraction as a percentage: "1.8%", "1,8 %".
fn percent(x: f64, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{}%", number(x * 100.0, lang)),
        Lang::Ru | Lang::Kk => format!("{} %", number(x * 100.0, lang)),
    }
}

fn quoted(status: Status, lang: Lang) -> String {
    match lang {
        Lang::En => format!("“{}”", status.label(lang)),
        Lang::Ru | Lang::Kk => format!("«{}»", status.label(lang)),
    }
}

fn yes(b: bool, lang: Lang) -> &'static str {
    match (b, lang) {
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
        (true, Lang::Ru) => "да",
        (false, Lang::Ru) => "нет",
        (true, Lang::Kk) => "иә",
        (false, Lang::Kk) => "жоқ",
    }
}

fn met(b: bool, lang: Lang) -> &'static str {
    match (b, lang) {
        (true, Lang::En) => "met",
        (false, Lang::En) => "not met",
        (true, Lang::Ru) => "выполнен",
        (false, Lang::Ru) => "не выполнен",
        (true, Lang::Kk) => "орындалды",
        (false, Lang::Kk) => "орындалмады",
    }
}

/// The text with its first letter in upper case, for a label that begins a sentence.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn labels(list: &[Label], lang: Lang) -> String {
    list.iter().map(|l| l.get(lang)).collect::<Vec<_>>().join(", ")
}

impl Reason {
    pub fn new(clause: Clause, detail: ReasonDetail) -> Reason {
        Reason { clause, detail }
    }

    /// The reason as a sentence in a language.
    pub fn text(&self, lang: Lang) -> String {
        use Lang::{En, Kk, Ru};
        let n = |x: f64| number(x, lang);
        let p = |x: f64| percent(x, lang);
        match &self.detail {
            ReasonDetail::Suppressed => match lang {
                En => "The occupation's figures are suppressed in this area: only unsuppressed occupations are \
                       assessed, so it is excluded."
                    .into(),
                Ru => "Данные по профессии на этой территории не публикуются (подавлены): оцениваются только \
                       профессии с публикуемыми данными, поэтому она исключена из оценки."
                    .into(),
                Kk => "Бұл аумақта кәсіп бойынша деректер жарияланбайды (жасырылған): тек деректері \
                       жарияланатын кәсіптер бағаланады, сондықтан ол бағалаудан шығарылды."
                    .into(),
            },
            ReasonDetail::BaseEmployment { employment, minimum, included } => {
                let (e, m) = (n(*employment), n(*minimum));
                match (lang, included) {
                    (En, true) => {
                        format!("Base-year employment {e} is at least the minimum of {m}: the occupation is assessed.")
                    }
                    (En, false) => {
                        format!("Base-year employment {e} is below the minimum of {m}: the occupation is excluded.")
                    }
                    (Ru, true) => {
                        format!("Занятость в базовом году ({e}) не ниже минимума ({m}): профессия оценивается.")
                    }
                    (Ru, false) => {
                        format!("Занятость в базовом году ({e}) ниже минимума ({m}): профессия исключена из оценки.")
                    }
                    (Kk, true) => format!(
                        "Базалық жылдағы жұмыспен қамтылғандар саны ({e}) ең төменгі шектен ({m}) кем емес: кәсіп бағаланады."
                    ),
                    (Kk, false) => format!(
                        "Базалық жылдағы жұмыспен қамтылғандар саны ({e}) ең төменгі шектен ({m}) кем: кәсіп бағалаудан шығарылды."
                    ),
                }
            }
            ReasonDetail::Unusable { frame, field, defect } => {
                let place = frame.map(|f| format!("{}: ", f.label(lang))).unwrap_or_default();
                let field = field.label(lang);
                let defect = match (defect, lang) {
                    (Defect::Missing, En) => "the value is not given or not a finite number",
                    (Defect::Missing, Ru) => "значение не указано или не является конечным числом",
                    (Defect::Missing, Kk) => "мәні берілмеген немесе шекті сан емес",
                    (Defect::NotPositive, En) => "the value is not positive, so no share of it can be computed",
                    (Defect::NotPositive, Ru) => "значение не больше нуля, поэтому долю от него вычислить нельзя",
                    (Defect::NotPositive, Kk) => "мәні нөлден үлкен емес, сондықтан одан үлес есептеу мүмкін емес",
                    (Defect::Negative, En) => "the value is negative",
                    (Defect::Negative, Ru) => "значение отрицательно",
                    (Defect::Negative, Kk) => "мәні теріс",
                };
                match lang {
                    En => format!(
                        "{place}{field}: {defect}. Insufficient data (the project's reading: the text assumes every figure is known)."
                    ),
                    Ru => format!(
                        "{place}{field}: {defect}. Недостаточно данных (толкование проекта: текст методики предполагает, что все показатели известны)."
                    ),
                    Kk => format!(
                        "{place}{field}: {defect}. Деректер жеткіліксіз (жобаның түсіндірмесі: әдістеме мәтіні барлық көрсеткіштер белгілі деп есептейді)."
                    ),
                }
            }
            ReasonDetail::FrameTest {
                frame,
                test,
                growth_rate,
                area_growth_rate,
                growth_factor,
                growth_threshold,
                growth_met,
                openings_share,
                share_threshold,
                share_met,
                met: all,
            } => {
                let f = frame.label(lang);
                let (g, ga, k, t, s, st) = (
                    p(*growth_rate),
                    p(*area_growth_rate),
                    p(*growth_factor),
                    p(*growth_threshold),
                    p(*openings_share),
                    p(*share_threshold),
                );
                let (gm, sm, m) = (yes(*growth_met, lang), yes(*share_met, lang), met(*all, lang));
                let in_demand = *test == Status::InDemand;
                match (lang, in_demand) {
                    (En, true) => format!(
                        "{f}: in-demand test {m}: growth {g} a year at least {k} of the area's {ga} (= {t}): {gm}; share of the area's openings {s} at least {st}: {sm}."
                    ),
                    (En, false) => format!(
                        "{f}: not-in-demand test {m}: growth {g} a year below {k} of the area's {ga} (= {t}): {gm}; share of the area's openings {s} below {st}: {sm}."
                    ),
                    (Ru, true) => format!(
                        "{f}: критерий «востребована» {m}: рост {g} в год не ниже {k} от роста по территории {ga} (= {t}): {gm}; доля в открывающихся рабочих местах территории {s} не ниже {st}: {sm}."
                    ),
                    (Ru, false) => format!(
                        "{f}: критерий «не востребована» {m}: рост {g} в год ниже {k} от роста по территории {ga} (= {t}): {gm}; доля в открывающихся рабочих местах территории {s} ниже {st}: {sm}."
                    ),
                    (Kk, true) => format!(
                        "{f}: «сұранысқа ие» өлшемі {m}: жылдық өсу {g} аумақ өсуінің ({ga}) {k} мөлшерінен (= {t}) кем емес: {gm}; аумақтағы ашылатын жұмыс орындарындағы үлесі {s} {st} мөлшерінен кем емес: {sm}."
                    ),
                    (Kk, false) => format!(
                        "{f}: «сұранысқа ие емес» өлшемі {m}: жылдық өсу {g} аумақ өсуінің ({ga}) {k} мөлшерінен (= {t}) кем: {gm}; аумақтағы ашылатын жұмыс орындарындағы үлесі {s} {st} мөлшерінен кем: {sm}."
                    ),
                }
            }
            ReasonDetail::NegativeAreaGrowth {
                frame,
                area_growth_rate,
                in_demand_threshold,
                not_in_demand_threshold,
            } => {
                let (f, ga, t1, t2) =
                    (frame.label(lang), p(*area_growth_rate), p(*in_demand_threshold), p(*not_in_demand_threshold));
                match lang {
                    En => format!(
                        "{f}: the area's growth {ga} is negative. The percentages are applied literally, so the in-demand threshold ({t1}) and the not-in-demand threshold ({t2}) lie above the area's rate, and an occupation shrinking more slowly than the area can still fall below them (the project's reading of the text)."
                    ),
                    Ru => format!(
                        "{f}: рост по территории ({ga}) отрицателен. Проценты применяются буквально, поэтому порог «востребована» ({t1}) и порог «не востребована» ({t2}) выше темпа территории, и профессия, сокращающаяся медленнее территории, может оказаться ниже них (толкование текста проектом)."
                    ),
                    Kk => format!(
                        "{f}: аумақтың өсу қарқыны ({ga}) теріс. Пайыздар сөзбе-сөз қолданылады, сондықтан «сұранысқа ие» шегі ({t1}) мен «сұранысқа ие емес» шегі ({t2}) аумақ қарқынынан жоғары, ал аумаққа қарағанда баяу қысқаратын кәсіп олардан төмен болып шығуы мүмкін (мәтінді жобаның түсіндіруі)."
                    ),
                }
            }
            ReasonDetail::Provisional { status, frames } => {
                let list = frames.iter().map(|f| f.label(lang)).collect::<Vec<_>>().join("; ");
                let q = quoted(*status, lang);
                match lang {
                    En => format!("Provisional identification {q} from: {list}."),
                    Ru => format!("Предварительная оценка {q} по: {list}."),
                    Kk => format!("Алдын ала белгі {q}, негізі: {list}."),
                }
            }
            ReasonDetail::Confirmed { status } => {
                let (q, l) = (quoted(*status, lang), status.label(lang));
                match lang {
                    En => format!("The only provisional identification is {q}: the occupation is {l}."),
                    Ru => format!("Есть только предварительная оценка {q}: профессия {l}."),
                    Kk => format!("Тек {q} алдын ала белгісі бар: кәсіп {l}."),
                }
            }
            ReasonDetail::BothBalanced => match lang {
                En => "The occupation has both provisional identifications, “in demand” and “not in demand”: it is \
                       re-identified as balanced."
                    .into(),
                Ru => "У профессии есть обе предварительные оценки, «востребована» и «не востребована»: она \
                       переопределяется как сбалансированная."
                    .into(),
                Kk => "Кәсіпте екі алдын ала белгі де бар, «сұранысқа ие» және «сұранысқа ие емес»: ол теңгерімді \
                       деп қайта белгіленеді."
                    .into(),
            },
            ReasonDetail::NeitherBalanced => match lang {
                En => "No time frame identifies the occupation as in demand or as not in demand: it is balanced (the \
                       project's reading; the published text does not say)."
                    .into(),
                Ru => "Ни в одном временном горизонте профессия не отнесена ни к востребованным, ни к \
                       невостребованным: она сбалансирована (толкование проекта; опубликованный текст этого не \
                       оговаривает)."
                    .into(),
                Kk => "Ешбір уақыт кезеңінде кәсіп сұранысқа ие де, сұранысқа ие емес те деп белгіленбеді: ол \
                       теңгерімді (жобаның түсіндірмесі; жарияланған мәтінде бұл айтылмаған)."
                    .into(),
            },
            ReasonDetail::Duplicate => match lang {
                En => "This area and occupation were already given in an earlier row; only the first row is assessed."
                    .into(),
                Ru => "Эта территория и профессия уже встречались в предыдущей строке; оценивается только первая \
                       строка."
                    .into(),
                Kk => "Бұл аумақ пен кәсіп алдыңғы жолда берілген; тек бірінші жол бағаланады.".into(),
            },
            ReasonDetail::NotFinite { indicator } => {
                let i = capitalised(indicator.get(lang));
                match lang {
                    En => format!("{i}: the value is not a finite number and is treated as missing."),
                    Ru => format!("{i}: значение не является конечным числом и считается отсутствующим."),
                    Kk => format!("{i}: мәні шекті сан емес, сондықтан жоқ деп есептеледі."),
                }
            }
            ReasonDetail::IndicatorRank { indicator, direction, value, rank, count, percentile, weight } => {
                let (i, v, r, pc, w) =
                    (capitalised(indicator.get(lang)), n(*value), n(*rank), n(*percentile * 100.0), p(*weight));
                let higher = *direction == Direction::Higher;
                match lang {
                    En => {
                        let d = if higher { "higher" } else { "lower" };
                        format!(
                            "{i}: {v}; rank {r} of {count} in the area ({d} values mean more shortage), percentile {pc}, weight {w}."
                        )
                    }
                    Ru => {
                        let d = if higher { "выше" } else { "ниже" };
                        format!(
                            "{i}: {v}; место {r} из {count} на территории (чем {d} значение, тем больше дефицит), перцентиль {pc}, вес {w}."
                        )
                    }
                    Kk => {
                        let d = if higher { "жоғары" } else { "төмен" };
                        format!(
                            "{i}: {v}; аумақта {count} ішінде {r}-орын (мән неғұрлым {d} болса, тапшылық соғұрлым көп), перцентиль {pc}, салмағы {w}."
                        )
                    }
                }
            }
            ReasonDetail::Renormalised { missing, available, available_weight } => {
                let (list, w) = (labels(missing, lang), p(*available_weight));
                match lang {
                    En => format!(
                        "No value for: {list}. The weights of the {available} indicators available (together {w}) are re-normalised to sum to 1."
                    ),
                    Ru => format!(
                        "Нет значений: {list}. Веса {available} имеющихся показателей (в сумме {w}) пересчитаны так, чтобы их сумма была равна 1."
                    ),
                    Kk => format!(
                        "Мәні жоқ: {list}. Бар {available} көрсеткіштің салмақтары (барлығы {w}) қосындысы 1-ге тең болатындай қайта есептелді."
                    ),
                }
            }
            ReasonDetail::TooFewIndicators { available, minimum, missing } => {
                let list = labels(missing, lang);
                match lang {
                    En => format!(
                        "Only {available} of the configuration's indicators have values (no value for: {list}), fewer than the minimum of {minimum}: insufficient data."
                    ),
                    Ru => format!(
                        "Значения есть только у {available} показателей конфигурации (нет значений: {list}), это меньше минимума ({minimum}): недостаточно данных."
                    ),
                    Kk => format!(
                        "Конфигурация көрсеткіштерінің тек {available} мәні бар (мәні жоқ: {list}), бұл ең төменгі шектен ({minimum}) аз: деректер жеткіліксіз."
                    ),
                }
            }
            ReasonDetail::ConditionMissing { indicator } => {
                let i = capitalised(indicator.get(lang));
                match lang {
                    En => format!("{i}: no value, and the thresholds need it: insufficient data."),
                    Ru => format!("{i}: нет значения, а пороги требуют его: недостаточно данных."),
                    Kk => format!("{i}: мәні жоқ, ал шектер оны талап етеді: деректер жеткіліксіз."),
                }
            }
            ReasonDetail::RankShare { score, rank, count, share, top, bottom, status } => {
                let (sc, r, sh, t, b, q) = (n(*score), n(*rank), p(*share), p(*top), p(*bottom), quoted(*status, lang));
                match lang {
                    En => format!(
                        "Combined score {sc}: rank {r} of {count} in the area ({sh} of the area's occupations rank at or above it). The top {t} are in demand, the bottom {b} not in demand, the rest balanced: {q}."
                    ),
                    Ru => format!(
                        "Сводный балл {sc}: место {r} из {count} на территории ({sh} профессий территории занимают это место или выше). Верхние {t} востребованы, нижние {b} не востребованы, остальные сбалансированы: {q}."
                    ),
                    Kk => format!(
                        "Жиынтық балл {sc}: аумақта {count} ішінде {r}-орын (аумақ кәсіптерінің {sh} осы орында немесе одан жоғары). Жоғарғы {t} сұранысқа ие, төменгі {b} сұранысқа ие емес, қалғандары теңгерімді: {q}."
                    ),
                }
            }
            ReasonDetail::Condition { side, indicator, op, value, threshold, met } => {
                let (q, i, v, o, t, y) =
                    (quoted(*side, lang), indicator.get(lang), n(*value), op.symbol(), n(*threshold), yes(*met, lang));
                match lang {
                    En => format!("Threshold for {q}: {i} {v} {o} {t}: {y}."),
                    Ru => format!("Порог для {q}: {i} {v} {o} {t}: {y}."),
                    Kk => format!("{q} шегі: {i} {v} {o} {t}: {y}."),
                }
            }
            ReasonDetail::ThresholdOutcome { in_demand, not_in_demand, status } => {
                let (a, b, q) = (yes(*in_demand, lang), yes(*not_in_demand, lang), quoted(*status, lang));
                match lang {
                    En => format!(
                        "All thresholds for “in demand” met: {a}; all thresholds for “not in demand” met: {b}; so the occupation is {q} (both or neither: balanced)."
                    ),
                    Ru => format!(
                        "Все пороги для «востребована» выполнены: {a}; все пороги для «не востребована» выполнены: {b}; итог: {q} (оба или ни одного: сбалансирована)."
                    ),
                    Kk => format!(
                        "«сұранысқа ие» шектерінің бәрі орындалды: {a}; «сұранысқа ие емес» шектерінің бәрі орындалды: {b}; қорытынды: {q} (екеуі де немесе ешқайсысы: теңгерімді)."
                    ),
                }
            }
            ReasonDetail::LocalAdjustment { from, to, by, date, reason } => {
                let (f, t) = (quoted(*from, lang), quoted(*to, lang));
                match lang {
                    En => format!("Local adjustment by {by} on {date}: {f} → {t}. Stated reason: {reason}"),
                    Ru => format!("Местная корректировка ({by}, {date}): {f} → {t}. Указанная причина: {reason}"),
                    Kk => format!("Жергілікті түзету ({by}, {date}): {f} → {t}. Көрсетілген себебі: {reason}"),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Assessments and local adjustments
// ---------------------------------------------------------------------------------------------

/// A local adjustment as applied to an assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedAdjustment {
    pub from: Status,
    pub to: Status,
    pub by: String,
    pub date: Date,
    pub reason: String,
}

/// The assessment of one occupation in one area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// For Kazakhstan the region's ISO 3166-2 code ([`crate::vacancy::Region::as_str`]).
    pub area: String,
    pub occupation: String,
    /// The final status, after any local adjustment.
    pub status: Status,
    /// The status the rule gave, before local adjustments.
    pub rule_status: Status,
    pub rule: RuleRef,
    pub figures: Vec<Figure>,
    pub reasons: Vec<Reason>,
    pub adjustments: Vec<AppliedAdjustment>,
}

impl Assessment {
    fn new(area: &str, occupation: &str, rule: RuleRef) -> Assessment {
        Assessment {
            area: area.to_string(),
            occupation: occupation.to_string(),
            status: Status::InsufficientData,
            rule_status: Status::InsufficientData,
            rule,
            figures: Vec::new(),
            reasons: Vec::new(),
            adjustments: Vec::new(),
        }
    }

    fn figure(&mut self, name: impl Into<String>, value: f64) {
        self.figures.push(Figure { name: name.into(), value });
    }

    fn reason(&mut self, clause: Clause, detail: ReasonDetail) {
        self.reasons.push(Reason::new(clause, detail));
    }

    fn finish(mut self, status: Status) -> Assessment {
        self.status = status;
        self.rule_status = status;
        self
    }

    /// A figure by name.
    pub fn figure_value(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|f| f.name == name).map(|f| f.value)
    }

    /// Whether some reason applies a clause.
    pub fn cites(&self, clause: Clause) -> bool {
        self.reasons.iter().any(|r| r.clause == clause)
    }

    /// The reasons as sentences in a language.
    pub fn reason_texts(&self, lang: Lang) -> Vec<String> {
        self.reasons.iter().map(|r| r.text(lang)).collect()
    }
}

/// A local council's decision to change an occupation's status in its area, after the rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    pub area: String,
    pub occupation: String,
    pub status: Status,
    /// The reason as the council gave it, quoted in every language.
    pub reason: String,
    pub by: String,
    pub date: Date,
}

/// Applies local adjustments, in date order (a later one overrides an earlier one), to every assessment of
/// the same area and occupation; each one becomes a reason and stays listed on the assessment. Returns the
/// indices of the adjustments that matched no assessment.
pub fn apply_adjustments(assessments: &mut [Assessment], adjustments: &[Adjustment]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..adjustments.len()).collect();
    order.sort_by_key(|&i| adjustments[i].date);
    let mut unmatched = Vec::new();
    for i in order {
        let adj = &adjustments[i];
        let mut matched = false;
        for a in assessments.iter_mut().filter(|a| a.area == adj.area && a.occupation == adj.occupation) {
            matched = true;
            let from = a.status;
            a.status = adj.status;
            a.adjustments.push(AppliedAdjustment {
                from,
                to: adj.status,
                by: adj.by.clone(),
                date: adj.date,
                reason: adj.reason.clone(),
            });
            a.reason(
                Clause::LocalAdjustment,
                ReasonDetail::LocalAdjustment {
                    from,
                    to: adj.status,
                    by: adj.by.clone(),
                    date: adj.date,
                    reason: adj.reason.clone(),
                },
            );
        }
        if !matched {
            unmatched.push(i);
        }
    }
    unmatched.sort_unstable();
    unmatched
}

// ---------------------------------------------------------------------------------------------
// Exact decimal comparison
// ---------------------------------------------------------------------------------------------

/// A finite number read as the decimal it prints as: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    fn of(x: f64) -> Option<Decimal> {
        if !x.is_finite() {
            return None;
        }
        // Display prints the shortest decimal that reads back as `x`, never in exponent form.
        let text = x.to_string();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.len() + frac.len() > 36 {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        Some(Decimal { mantissa: if negative { -mantissa } else { mantissa }, scale: frac.len() as u32 })
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        self.mantissa.checked_mul(10i128.checked_pow(scale.checked_sub(self.scale)?)?)
    }

    fn mul(self, other: Decimal) -> Option<Decimal> {
        Some(Decimal { mantissa: self.mantissa.checked_mul(other.mantissa)?, scale: self.scale + other.scale })
    }

    fn add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        Some(Decimal { mantissa: self.rescaled(scale)?.checked_add(other.rescaled(scale)?)?, scale })
    }

    fn compare(self, other: Decimal) -> Option<Ordering> {
        let scale = self.scale.max(other.scale);
        Some(self.rescaled(scale)?.cmp(&other.rescaled(scale)?))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

/// `x` compared with `factor × y`, each read as the decimal it prints as; floating point if too long.
fn compare_scaled(x: f64, factor: f64, y: f64) -> Ordering {
    let exact = || Decimal::of(x)?.compare(Decimal::of(factor)?.mul(Decimal::of(y)?)?);
    exact().unwrap_or_else(|| x.total_cmp(&(factor * y)))
}

// ---------------------------------------------------------------------------------------------
// Washington's Occupations in Demand rule
// ---------------------------------------------------------------------------------------------

/// The figures of one projection time frame for one occupation in one area. Rates are fractions a year
/// (0.012 is 1.2 %); a value that is not finite counts as missing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameFigures {
    /// The occupation's average annual growth rate.
    pub growth_rate: f64,
    /// The occupation's total job openings (growth and replacement).
    pub openings: f64,
    /// The area's total average annual growth rate, all occupations.
    pub area_growth_rate: f64,
    /// The area's total job openings, all occupations.
    pub area_openings: f64,
}

/// One occupation in one area, as the Washington rule reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectionInput {
    pub area: String,
    pub occupation: String,
    pub base_employment: Option<f64>,
    /// The occupation's figures are suppressed for confidentiality.
    pub suppressed: bool,
    /// Five-year, ten-year, and two-year with ten-year ([`Frame::ALL`] order).
    pub frames: [FrameFigures; 3],
}

/// One version of Washington's rule with its cited parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WashingtonRule {
    pub id: String,
    pub from: Date,
    pub until: Option<Date>,
    pub source: Source,
    pub uncertain: Option<String>,
    pub note: Option<String>,
    /// Included from this base-year employment on (50).
    pub min_base_employment: Param,
    /// In demand: growth at least this share of the area's growth (0.90).
    pub in_demand_growth_factor: Param,
    /// In demand: share of the area's openings at least this (0.0008).
    pub in_demand_min_openings_share: Param,
    /// Not in demand: growth below this share of the area's growth (0.70).
    pub not_in_demand_growth_factor: Param,
    /// Not in demand: share of the area's openings below this (0.01).
    pub not_in_demand_max_openings_share: Param,
}

impl WashingtonRule {
    /// The clauses the rule applies; every one has a worked example in the tests.
    pub fn clauses() -> &'static [Clause] {
        &Clause::WASHINGTON
    }

    pub fn covers(&self, on: Date) -> bool {
        self.from <= on && self.until.is_none_or(|u| on <= u)
    }

    pub fn rule_ref(&self) -> RuleRef {
        RuleRef {
            id: self.id.clone(),
            version_from: self.from,
            version_until: self.until,
            methodology: self.source.methodology.clone(),
            source: self.source.address.clone(),
        }
    }

    /// Assesses each row on its own, in the order given.
    pub fn assess(&self, rows: &[ProjectionInput]) -> Vec<Assessment> {
        rows.iter().map(|row| self.assess_one(row)).collect()
    }

    fn assess_one(&self, row: &ProjectionInput) -> Assessment {
        let mut a = Assessment::new(&row.area, &row.occupation, self.rule_ref());
        if row.suppressed {
            a.reason(Clause::Unsuppressed, ReasonDetail::Suppressed);
            return a.finish(Status::Excluded);
        }
        let employment = match row.base_employment {
            Some(e) if e.is_finite() && e >= 0.0 => e,
            Some(e) if e.is_finite() => {
                a.figure("base_employment", e);
                let detail =
                    ReasonDetail::Unusable { frame: None, field: Field::BaseEmployment, defect: Defect::Negative };
                a.reason(Clause::MissingFigures, detail);
                return a.finish(Status::InsufficientData);
            }
            _ => {
                let detail =
                    ReasonDetail::Unusable { frame: None, field: Field::BaseEmployment, defect: Defect::Missing };
                a.reason(Clause::MissingFigures, detail);
                return a.finish(Status::InsufficientData);
            }
        };
        let minimum = self.min_base_employment.value;
        a.figure("base_employment", employment);
        a.figure("min_base_employment", minimum);
        let included = compare_scaled(employment, 1.0, minimum) != Ordering::Less;
        a.reason(Clause::BaseEmployment, ReasonDetail::BaseEmployment { employment, minimum, included });
        if !included {
            return a.finish(Status::Excluded);
        }

        let mut unusable = Vec::new();
        for (frame, f) in Frame::ALL.into_iter().zip(&row.frames) {
            let checks = [
                (Field::GrowthRate, f.growth_rate, false),
                (Field::Openings, f.openings, false),
                (Field::AreaGrowthRate, f.area_growth_rate, false),
                (Field::AreaOpenings, f.area_openings, true),
            ];
            for (field, value, positive) in checks {
                let defect = if !value.is_finite() {
                    Some(Defect::Missing)
                } else if positive && value <= 0.0 {
                    Some(Defect::NotPositive)
                } else if field == Field::Openings && value < 0.0 {
                    Some(Defect::Negative)
                } else {
                    None
                };
                if let Some(defect) = defect {
                    unusable.push(ReasonDetail::Unusable { frame: Some(frame), field, defect });
                }
            }
        }
        if !unusable.is_empty() {
            for detail in unusable {
                a.reason(Clause::MissingFigures, detail);
            }
            return a.finish(Status::InsufficientData);
        }

        let (k_in, s_in) = (self.in_demand_growth_factor.value, self.in_demand_min_openings_share.value);
        let (k_not, s_not) = (self.not_in_demand_growth_factor.value, self.not_in_demand_max_openings_share.value);
        a.figure("in_demand_growth_factor", k_in);
        a.figure("in_demand_min_openings_share", s_in);
        a.figure("not_in_demand_growth_factor", k_not);
        a.figure("not_in_demand_max_openings_share", s_not);
        let mut provisional_in = Vec::new();
        let mut provisional_not = Vec::new();
        for (frame, f) in Frame::ALL.into_iter().zip(&row.frames) {
            let name = frame.as_str();
            let share = f.openings / f.area_openings;
            let (t_in, t_not) = (k_in * f.area_growth_rate, k_not * f.area_growth_rate);
            a.figure(format!("{name}.growth_rate"), f.growth_rate);
            a.figure(format!("{name}.area_growth_rate"), f.area_growth_rate);
            a.figure(format!("{name}.openings"), f.openings);
            a.figure(format!("{name}.area_openings"), f.area_openings);
            a.figure(format!("{name}.openings_share"), share);
            a.figure(format!("{name}.in_demand_growth_threshold"), t_in);
            a.figure(format!("{name}.not_in_demand_growth_threshold"), t_not);
            if f.area_growth_rate < 0.0 {
                let detail = ReasonDetail::NegativeAreaGrowth {
                    frame,
                    area_growth_rate: f.area_growth_rate,
                    in_demand_threshold: t_in,
                    not_in_demand_threshold: t_not,
                };
                a.reason(Clause::NegativeAreaGrowth, detail);
            }
            // Step one, literally: growth ≥ 0.9 × area growth and openings ≥ 0.0008 × area openings;
            // growth < 0.7 × area growth and openings < 0.01 × area openings.
            let growth_in = compare_scaled(f.growth_rate, k_in, f.area_growth_rate) != Ordering::Less;
            let share_in = compare_scaled(f.openings, s_in, f.area_openings) != Ordering::Less;
            let growth_not = compare_scaled(f.growth_rate, k_not, f.area_growth_rate) == Ordering::Less;
            let share_not = compare_scaled(f.openings, s_not, f.area_openings) == Ordering::Less;
            let (is_in, is_not) = (growth_in && share_in, growth_not && share_not);
            a.reason(
                Clause::Step1InDemand,
                ReasonDetail::FrameTest {
                    frame,
                    test: Status::InDemand,
                    growth_rate: f.growth_rate,
                    area_growth_rate: f.area_growth_rate,
                    growth_factor: k_in,
                    growth_threshold: t_in,
                    growth_met: growth_in,
                    openings_share: share,
                    share_threshold: s_in,
                    share_met: share_in,
                    met: is_in,
                },
            );
            a.reason(
                Clause::Step1NotInDemand,
                ReasonDetail::FrameTest {
                    frame,
                    test: Status::NotInDemand,
                    growth_rate: f.growth_rate,
                    area_growth_rate: f.area_growth_rate,
                    growth_factor: k_not,
                    growth_threshold: t_not,
                    growth_met: growth_not,
                    openings_share: share,
                    share_threshold: s_not,
                    share_met: share_not,
                    met: is_not,
                },
            );
            if is_in {
                provisional_in.push(frame);
            }
            if is_not {
                provisional_not.push(frame);
            }
        }

        let (any_in, any_not) = (!provisional_in.is_empty(), !provisional_not.is_empty());
        if any_in {
            let detail = ReasonDetail::Provisional { status: Status::InDemand, frames: provisional_in };
            a.reason(Clause::ProvisionalInDemand, detail);
        }
        if any_not {
            let detail = ReasonDetail::Provisional { status: Status::NotInDemand, frames: provisional_not };
            a.reason(Clause::ProvisionalNotInDemand, detail);
        }
        let status = match (any_in, any_not) {
            (true, true) => {
                a.reason(Clause::BothBalanced, ReasonDetail::BothBalanced);
                Status::Balanced
            }
            (true, false) => {
                a.reason(Clause::ProvisionalInDemand, ReasonDetail::Confirmed { status: Status::InDemand });
                Status::InDemand
            }
            (false, true) => {
                a.reason(Clause::ProvisionalNotInDemand, ReasonDetail::Confirmed { status: Status::NotInDemand });
                Status::NotInDemand
            }
            (false, false) => {
                a.reason(Clause::NeitherBalanced, ReasonDetail::NeitherBalanced);
                Status::Balanced
            }
        };
        a.finish(status)
    }
}

// ---------------------------------------------------------------------------------------------
// The composite index
// ---------------------------------------------------------------------------------------------

/// The named indicator values of one occupation in one area; names not in the configuration are ignored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorRow {
    pub area: String,
    pub occupation: String,
    pub values: BTreeMap<String, f64>,
}

/// An indicator of a configuration with its weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weight {
    pub indicator: Indicator,
    pub weight: f64,
    /// Which variable of the source methodology the indicator stands for.
    pub maps: Option<String>,
}

/// A threshold on one indicator's raw value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub indicator: Indicator,
    pub op: Op,
    pub value: f64,
}

/// How the combined ranks become statuses.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Classify {
    /// The top share of an area's ranked occupations is in demand, the bottom share not in demand, the rest
    /// balanced. An occupation is in the top share when its average rank over the count is at most `top`,
    /// in the bottom share when the occupations ranked above it are at least `1 − bottom` of the count; one
    /// that straddles a cut is balanced.
    RankShare { top: f64, bottom: f64 },
    /// In demand when every `in_demand` condition holds, not in demand when every `not_in_demand` one does
    /// (an empty list never holds); both or neither: balanced.
    Thresholds { in_demand: Vec<Condition>, not_in_demand: Vec<Condition> },
}

/// One version of a composite index configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompositeIndex {
    pub id: String,
    pub title: String,
    pub from: Date,
    pub until: Option<Date>,
    pub source: Source,
    /// How the configuration departs from or adapts its source.
    pub adaptation: Option<String>,
    pub uncertain: Option<String>,
    pub note: Option<String>,
    /// An occupation with fewer of the configuration's indicators is "insufficient data".
    pub min_indicators: usize,
    pub weights: Vec<Weight>,
    pub classify: Classify,
}

/// Average ranks, 1-based, of `n` items in the ascending order of `cmp`: items it finds equal share the
/// mean of their positions.
fn average_ranks_by(n: usize, cmp: impl Fn(usize, usize) -> Ordering) -> Vec<f64> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    let mut ranks = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end + 1 < n && cmp(order[end + 1], order[start]) == Ordering::Equal {
            end += 1;
        }
        let rank = (start + end + 2) as f64 / 2.0;
        for &i in &order[start..=end] {
            ranks[i] = rank;
        }
        start = end + 1;
    }
    ranks
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// A combined score as an exact fraction, so that scores equal in exact arithmetic tie.
#[derive(Debug, Clone, Copy)]
struct Fraction {
    numerator: i128,
    denominator: i128,
}

impl Fraction {
    fn compare(self, other: Fraction) -> Option<Ordering> {
        let left = self.numerator.checked_mul(other.denominator)?;
        let right = other.numerator.checked_mul(self.denominator)?;
        Some(left.cmp(&right))
    }
}

/// One weighted indicator of one occupation within its area.
#[derive(Debug, Clone, Copy)]
struct Placed {
    /// 0 to 1, 1 the most shortage.
    percentile: f64,
    /// Twice the ascending average rank minus 2 (an integer): the percentile's numerator.
    twice_rank_above_first: i128,
    /// 1 is the most shortage.
    shown_rank: f64,
    count: usize,
}

impl CompositeIndex {
    pub fn covers(&self, on: Date) -> bool {
        self.from <= on && self.until.is_none_or(|u| on <= u)
    }

    pub fn rule_ref(&self) -> RuleRef {
        RuleRef {
            id: self.id.clone(),
            version_from: self.from,
            version_until: self.until,
            methodology: self.source.methodology.clone(),
            source: self.source.address.clone(),
        }
    }

    /// The indicators the configuration reads: the weighted ones, then those only its thresholds name.
    fn indicators(&self) -> Vec<&Indicator> {
        let mut list: Vec<&Indicator> = self.weights.iter().map(|w| &w.indicator).collect();
        if let Classify::Thresholds { in_demand, not_in_demand } = &self.classify {
            for c in in_demand.iter().chain(not_in_demand) {
                if !list.iter().any(|i| i.id() == c.indicator.id()) {
                    list.push(&c.indicator);
                }
            }
        }
        list
    }

    /// Assesses the rows area by area; the output is in the order of the rows. A repeated area and
    /// occupation is excluded after its first row; a value that is not finite counts as missing; an
    /// occupation with fewer than `min_indicators` of the configuration's indicators, or without one its
    /// thresholds name, is "insufficient data" and takes no part in the ranking.
    pub fn assess(&self, rows: &[IndicatorRow]) -> Vec<Assessment> {
        let rule = self.rule_ref();
        let indicators = self.indicators();
        let mut out: Vec<Assessment> =
            rows.iter().map(|r| Assessment::new(&r.area, &r.occupation, rule.clone())).collect();
        // values[row][k]: the finite value of indicators[k], or None.
        let values: Vec<Vec<Option<f64>>> = rows
            .iter()
            .map(|row| {
                indicators.iter().map(|ind| row.values.get(ind.id()).copied().filter(|x| x.is_finite())).collect()
            })
            .collect();
        let mut seen = HashSet::new();
        let mut areas: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let a = &mut out[i];
            if !seen.insert((row.area.as_str(), row.occupation.as_str())) {
                a.reason(Clause::DuplicateRow, ReasonDetail::Duplicate);
                a.status = Status::Excluded;
                continue;
            }
            for ind in &indicators {
                if let Some(&x) = row.values.get(ind.id()) {
                    a.figure(ind.id(), x);
                    if !x.is_finite() {
                        a.reason(Clause::NotFinite, ReasonDetail::NotFinite { indicator: ind.label.clone() });
                    }
                }
            }
            let available = values[i].iter().filter(|v| v.is_some()).count();
            if available < self.min_indicators {
                let missing: Vec<Label> = indicators
                    .iter()
                    .zip(&values[i])
                    .filter(|(_, v)| v.is_none())
                    .map(|(ind, _)| ind.label.clone())
                    .collect();
                let detail = ReasonDetail::TooFewIndicators { available, minimum: self.min_indicators, missing };
                a.reason(Clause::TooFewIndicators, detail);
                a.status = Status::InsufficientData;
                continue;
            }
            if let Classify::Thresholds { in_demand, not_in_demand } = &self.classify {
                let mut lacking = HashSet::new();
                for c in in_demand.iter().chain(not_in_demand) {
                    let k = indicators.iter().position(|ind| ind.id() == c.indicator.id());
                    if k.and_then(|k| values[i][k]).is_none() && lacking.insert(c.indicator.id()) {
                        let detail = ReasonDetail::ConditionMissing { indicator: c.indicator.label.clone() };
                        a.reason(Clause::Thresholds, detail);
                    }
                }
                if !lacking.is_empty() {
                    a.status = Status::InsufficientData;
                    continue;
                }
            }
            areas.entry(row.area.as_str()).or_default().push(i);
        }

        for members in areas.values() {
            self.assess_area(members, &values, &mut out);
        }
        for a in &mut out {
            a.rule_status = a.status;
        }
        out
    }

    /// Ranks, scores and classifies the eligible occupations of one area. An indicator's percentile among
    /// the `n` occupations that have it is `(rank − 1) / (n − 1)` for its ascending average rank (0.5 when
    /// `n` is 1); the score is the weighted mean of the percentiles over the indicators the occupation has.
    /// Scores are compared as exact fractions of the decimal weights, so equal rank sums tie.
    fn assess_area(&self, members: &[usize], values: &[Vec<Option<f64>>], out: &mut [Assessment]) {
        let count = members.len();
        let weights = self.weights.len();
        let mut placed: Vec<Vec<Option<Placed>>> = vec![vec![None; weights]; count];
        // The percentile of indicator k is `twice_rank_above_first / denominators[k]`.
        let mut denominators = vec![2i128; weights];
        for (k, w) in self.weights.iter().enumerate() {
            let have: Vec<(usize, f64)> =
                members.iter().enumerate().filter_map(|(m, &i)| Some((m, values[i][k]?))).collect();
            let oriented: Vec<f64> = have
                .iter()
                .map(|&(_, v)| match w.indicator.direction {
                    Direction::Higher => v,
                    Direction::Lower => -v,
                })
                .collect();
            let ranks = average_ranks_by(oriented.len(), |a, b| {
                oriented[a].partial_cmp(&oriented[b]).unwrap_or(Ordering::Equal)
            });
            let n = have.len();
            if n > 1 {
                denominators[k] = 2 * (n as i128 - 1);
            }
            for (&(m, _), &r) in have.iter().zip(&ranks) {
                let (percentile, twice) =
                    if n > 1 { ((r - 1.0) / (n - 1) as f64, (2.0 * r).round() as i128 - 2) } else { (0.5, 1) };
                placed[m][k] = Some(Placed {
                    percentile,
                    twice_rank_above_first: twice,
                    shown_rank: n as f64 + 1.0 - r,
                    count: n,
                });
            }
        }
        // Exact weights: integers at a common decimal scale; the percentiles over a common denominator.
        let scale = self.weights.iter().filter_map(|w| Decimal::of(w.weight)).map(|d| d.scale).max().unwrap_or(0);
        let integer_weights: Option<Vec<i128>> =
            self.weights.iter().map(|w| Decimal::of(w.weight)?.rescaled(scale)).collect();
        let common = denominators.iter().try_fold(1i128, |l, &d| l.checked_mul(d / gcd(l, d)));

        let mut scores = vec![f64::NAN; count];
        let mut exact: Vec<Option<Fraction>> = vec![None; count];
        for (m, &i) in members.iter().enumerate() {
            let available_weight: f64 =
                self.weights.iter().zip(&placed[m]).filter(|(_, p)| p.is_some()).map(|(w, _)| w.weight).sum();
            if available_weight <= 0.0 {
                continue;
            }
            let missing: Vec<Label> = self
                .weights
                .iter()
                .zip(&placed[m])
                .filter(|(_, p)| p.is_none())
                .map(|(w, _)| w.indicator.label.clone())
                .collect();
            let mut score = 0.0;
            for (k, w) in self.weights.iter().enumerate() {
                let Some(p) = placed[m][k] else { continue };
                let used = w.weight / available_weight;
                score += used * p.percentile;
                let id = w.indicator.id();
                out[i].figure(format!("{id}.rank"), p.shown_rank);
                out[i].figure(format!("{id}.count"), p.count as f64);
                out[i].figure(format!("{id}.percentile"), p.percentile);
                out[i].figure(format!("{id}.weight"), used);
                let detail = ReasonDetail::IndicatorRank {
                    indicator: w.indicator.label.clone(),
                    direction: w.indicator.direction,
                    value: values[i][k].unwrap_or(f64::NAN),
                    rank: p.shown_rank,
                    count: p.count,
                    percentile: p.percentile,
                    weight: used,
                };
                out[i].reason(Clause::IndicatorRank, detail);
            }
            if !missing.is_empty() {
                let available = weights - missing.len();
                let detail = ReasonDetail::Renormalised { missing, available, available_weight };
                out[i].reason(Clause::Renormalised, detail);
            }
            exact[m] = integer_weights.as_ref().zip(common).and_then(|(ws, common)| {
                let (mut numerator, mut total) = (0i128, 0i128);
                for (k, p) in placed[m].iter().enumerate() {
                    let Some(p) = p else { continue };
                    let term = ws[k].checked_mul(p.twice_rank_above_first)?.checked_mul(common / denominators[k])?;
                    numerator = numerator.checked_add(term)?;
                    total = total.checked_add(ws[k])?;
                }
                Some(Fraction { numerator, denominator: common.checked_mul(total)? })
            });
            if let Some(f) = exact[m] {
                score = f.numerator as f64 / f.denominator as f64;
            }
            scores[m] = score;
            out[i].figure("score", score);
        }

        match &self.classify {
            Classify::RankShare { top, bottom } => {
                // Descending: rank 1 is the highest score.
                // Exact only if every pair of fractions can be cross-multiplied, so the order is one total order.
                let fractions: Option<Vec<Fraction>> = exact.iter().copied().collect();
                let fractions = fractions.filter(|list| {
                    let top = list.iter().map(|f| f.numerator.abs()).max().unwrap_or(0);
                    let den = list.iter().map(|f| f.denominator).max().unwrap_or(0);
                    top.checked_mul(den).is_some()
                });
                let ranks = average_ranks_by(count, |a, b| match &fractions {
                    Some(list) => list[b].compare(list[a]).unwrap_or(Ordering::Equal),
                    None => scores[b].total_cmp(&scores[a]),
                });
                for (m, &i) in members.iter().enumerate() {
                    let rank = ranks[m];
                    let status = rank_share_status(rank, count, *top, *bottom);
                    let share = rank / count as f64;
                    out[i].figure("score.rank", rank);
                    out[i].figure("score.count", count as f64);
                    out[i].figure("score.rank_share", share);
                    let detail = ReasonDetail::RankShare {
                        score: scores[m],
                        rank,
                        count,
                        share,
                        top: *top,
                        bottom: *bottom,
                        status,
                    };
                    out[i].reason(Clause::RankShare, detail);
                    out[i].status = status;
                }
            }
            Classify::Thresholds { in_demand, not_in_demand } => {
                let indicators = self.indicators();
                for &i in members {
                    let check = |side: Status, list: &[Condition], a: &mut Assessment| -> bool {
                        let mut all = !list.is_empty();
                        for c in list {
                            let k = indicators.iter().position(|ind| ind.id() == c.indicator.id());
                            let value = k.and_then(|k| values[i][k]).unwrap_or(f64::NAN);
                            let met = c.op.holds(value, c.value);
                            all &= met;
                            let detail = ReasonDetail::Condition {
                                side,
                                indicator: c.indicator.label.clone(),
                                op: c.op,
                                value,
                                threshold: c.value,
                                met,
                            };
                            a.reason(Clause::Thresholds, detail);
                        }
                        all
                    };
                    let is_in = check(Status::InDemand, in_demand, &mut out[i]);
                    let is_not = check(Status::NotInDemand, not_in_demand, &mut out[i]);
                    let status = match (is_in, is_not) {
                        (true, false) => Status::InDemand,
                        (false, true) => Status::NotInDemand,
                        _ => Status::Balanced,
                    };
                    let detail = ReasonDetail::ThresholdOutcome { in_demand: is_in, not_in_demand: is_not, status };
                    out[i].reason(Clause::Thresholds, detail);
                    out[i].status = status;
                }
            }
        }
    }
}

/// The status of an occupation at average rank `rank` (1 = highest score, x.5 for ties) of `count`.
/// Exact: `rank / count ≤ top` and `(rank − 1) / count ≥ 1 − bottom`, in decimals.
fn rank_share_status(rank: f64, count: usize, top: f64, bottom: f64) -> Status {
    let twice = (2.0 * rank).round() as i128;
    let n2 = 2 * count as i128;
    let within = |share: f64| -> Option<(i128, i128)> {
        let d = Decimal::of(share)?;
        let unit = 10i128.checked_pow(d.scale)?;
        Some((d.mantissa, unit))
    };
    let in_top = match within(top) {
        Some((m, unit)) => twice.checked_mul(unit).zip(m.checked_mul(n2)).map(|(l, r)| l <= r),
        None => None,
    }
    .unwrap_or(rank / count as f64 <= top);
    let in_bottom = match within(bottom) {
        Some((m, unit)) => {
            (twice - 2).checked_mul(unit).zip(unit.checked_sub(m).and_then(|u| u.checked_mul(n2))).map(|(l, r)| l >= r)
        }
        None => None,
    }
    .unwrap_or((rank - 1.0) / count as f64 >= 1.0 - bottom);
    if in_top {
        Status::InDemand
    } else if in_bottom {
        Status::NotInDemand
    } else {
        Status::Balanced
    }
}

// ---------------------------------------------------------------------------------------------
// The rules file
// ---------------------------------------------------------------------------------------------

/// The rules: sources, the indicator catalogue, the versions of Washington's rule and of the composite
/// indices. Read from TOML:
///
/// ```toml
/// [sources.wa_esd_2016]
/// publisher = "Washington State Employment Security Department (ESD)"
/// title = "How we determine demand for occupations: 2016 methodology"
/// address = "https://fortress.wa.gov/esd/…/determine-demand"
/// methodology = "2016"
///
/// [indicators.seekers_per_vacancy]
/// direction = "lower"            # a lower value means more shortage
/// en = "registered job seekers per vacancy"
/// ru = "…"
/// kk = "…"
///
/// [[washington]]
/// id = "wa-esd-oid"
/// from = 2016-01-01              # `until` (inclusive) where it ends
/// source = "wa_esd_2016"
/// min_base_employment = { value = 50, source = "wa_esd_2016", clause = "Occupations included" }
/// in_demand_growth_factor = { value = 0.90, source = "wa_esd_2016", clause = "Step one" }
/// in_demand_min_openings_share = { value = 0.0008, source = "wa_esd_2016", clause = "Step one" }
/// not_in_demand_growth_factor = { value = 0.70, source = "wa_esd_2016", clause = "Step one" }
/// not_in_demand_max_openings_share = { value = 0.01, source = "wa_esd_2016", clause = "Step one" }
///
/// [[composite]]
/// id = "kz-demand-decline"
/// title = "…"
/// from = 2007-06-01
/// source = "wa_esd_2007"
/// min_indicators = 2
/// classify = { method = "rank_share", top = 0.30, bottom = 0.50 }
/// # or { method = "thresholds", in_demand = [{ indicator = "seekers_per_vacancy", at_most = 1 }], not_in_demand = […] }
/// [composite.weights.seekers_per_vacancy]
/// weight = 0.25                  # the weights sum to exactly 1
/// maps = "occupational unemployment ratio (25 percent)"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShortageRules {
    pub sources: BTreeMap<String, Source>,
    pub indicators: BTreeMap<String, Indicator>,
    /// The versions of Washington's rule, one series by date.
    pub washington: Vec<WashingtonRule>,
    pub composite: Vec<CompositeIndex>,
}

impl ShortageRules {
    /// The rules compiled into the crate.
    pub fn bundled() -> Result<Checked<ShortageRules>, ShortageError> {
        ShortageRules::parse(RULES_TOML, RULES_FILE)
    }

    /// Reads a rules file; `file` names it in errors and diagnostics.
    pub fn parse(text: &str, file: &str) -> Result<Checked<ShortageRules>, ShortageError> {
        let mut r = Reader::new(file);
        let root = r.parse(text)?;
        r.keys(&root, &["sources", "indicators", "washington", "composite"], "");
        let sources = r.sources(&root)?;
        let indicators = r.indicators(&root)?;
        let mut washington = Vec::new();
        for (n, t) in r.tables(&root, "washington", "")?.into_iter().enumerate() {
            washington.push(r.washington(t, &format!("washington[{n}]"), &sources)?);
        }
        let mut composite = Vec::new();
        for (n, t) in r.tables(&root, "composite", "")?.into_iter().enumerate() {
            composite.push(r.composite(t, &format!("composite[{n}]"), &sources, &indicators)?);
        }
        let spans: Vec<(&str, Date, Option<Date>)> =
            washington.iter().map(|w| ("washington", w.from, w.until)).collect();
        check_overlaps(file, &spans)?;
        let spans: Vec<(&str, Date, Option<Date>)> =
            composite.iter().map(|c| (c.id.as_str(), c.from, c.until)).collect();
        check_overlaps(file, &spans)?;
        let rules = ShortageRules { sources, indicators, washington, composite };
        Ok(Checked { value: rules, diagnostics: r.diagnostics })
    }

    /// The version of Washington's rule in force on a day.
    pub fn washington(&self, on: Date) -> Option<&WashingtonRule> {
        self.washington.iter().find(|w| w.covers(on))
    }

    /// The version of a composite configuration in force on a day.
    pub fn composite(&self, id: &str, on: Date) -> Option<&CompositeIndex> {
        self.composite.iter().find(|c| c.id == id && c.covers(on))
    }

    /// The ids of the composite configurations, sorted, each once.
    pub fn composite_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.composite.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Versions of the same id must not share a day.
fn check_overlaps(file: &str, spans: &[(&str, Date, Option<Date>)]) -> Result<(), ShortageError> {
    for (n, a) in spans.iter().enumerate() {
        for b in &spans[n + 1..] {
            let overlap = a.0 == b.0 && a.1 <= b.2.unwrap_or(b.1.max(a.1)) && b.1 <= a.2.unwrap_or(a.1.max(b.1));
            if overlap {
                let (first, second) = if a.1 <= b.1 { (a.1, b.1) } else { (b.1, a.1) };
                return Err(ShortageError::Overlap { file: file.into(), id: a.0.into(), first, second });
            }
        }
    }
    Ok(())
}

/// Reads local adjustments: an array `[[adjustment]]` of tables with `area`, `occupation`, `status`
/// (`in_demand`, `balanced` or `not_in_demand`), `reason`, `by` and `date`.
pub fn parse_adjustments(text: &str, file: &str) -> Result<Checked<Vec<Adjustment>>, ShortageError> {
    let mut r = Reader::new(file);
    let root = r.parse(text)?;
    r.keys(&root, &["adjustment"], "");
    let mut list = Vec::new();
    for (n, t) in r.tables(&root, "adjustment", "")?.into_iter().enumerate() {
        let path = format!("adjustment[{n}]");
        r.keys(t, &["area", "occupation", "status", "reason", "by", "date"], &path);
        let status_text = r.text(t, "status", &path)?;
        let status = Status::parse(&status_text)
            .filter(|s| matches!(s, Status::InDemand | Status::Balanced | Status::NotInDemand))
            .ok_or_else(|| ShortageError::BadValue {
                file: file.into(),
                key: join(&path, "status"),
                message: format!("`{status_text}` is not in_demand, balanced or not_in_demand"),
            })?;
        list.push(Adjustment {
            area: r.text(t, "area", &path)?,
            occupation: r.text(t, "occupation", &path)?,
            status,
            reason: r.text(t, "reason", &path)?,
            by: r.text(t, "by", &path)?,
            date: r.date(t, "date", &path)?,
        });
    }
    Ok(Checked { value: list, diagnostics: r.diagnostics })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// Reads typed values out of TOML tables, naming the file and the dotted key in every error.
struct Reader<'f> {
    file: &'f str,
    diagnostics: Vec<ShortageDiagnostic>,
}

impl<'f> Reader<'f> {
    fn new(file: &'f str) -> Reader<'f> {
        Reader { file, diagnostics: Vec::new() }
    }

    fn parse(&self, text: &str) -> Result<toml::Table, ShortageError> {
        text.parse::<toml::Table>()
            .map_err(|e| ShortageError::Syntax { file: self.file.into(), message: e.to_string().trim().to_string() })
    }

    fn keys(&mut self, t: &toml::Table, allowed: &[&str], path: &str) {
        for key in t.keys() {
            if !allowed.contains(&key.as_str()) {
                let key = join(path, key);
                self.diagnostics.push(ShortageDiagnostic {
                    file: self.file.into(),
                    key,
                    problem: ShortageProblem::UnknownKey,
                });
            }
        }
    }

    fn wrong(&self, path: &str, key: &str, expected: &'static str) -> ShortageError {
        ShortageError::WrongType { file: self.file.into(), key: join(path, key), expected }
    }

    fn bad(&self, path: &str, key: &str, message: impl Into<String>) -> ShortageError {
        ShortageError::BadValue { file: self.file.into(), key: join(path, key), message: message.into() }
    }

    fn get<'t>(&self, t: &'t toml::Table, key: &str, path: &str) -> Result<&'t toml::Value, ShortageError> {
        t.get(key).ok_or_else(|| ShortageError::Missing { file: self.file.into(), key: join(path, key) })
    }

    fn text(&self, t: &toml::Table, key: &str, path: &str) -> Result<String, ShortageError> {
        match self.get(t, key, path)? {
            toml::Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            toml::Value::String(_) => Err(self.bad(path, key, "is empty")),
            _ => Err(self.wrong(path, key, "text")),
        }
    }

    fn opt_text(&self, t: &toml::Table, key: &str, path: &str) -> Result<Option<String>, ShortageError> {
        if t.contains_key(key) { self.text(t, key, path).map(Some) } else { Ok(None) }
    }

    fn number(&self, t: &toml::Table, key: &str, path: &str) -> Result<f64, ShortageError> {
        match self.get(t, key, path)? {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Ok(*f),
            toml::Value::Float(_) => Err(self.bad(path, key, "is not a finite number")),
            _ => Err(self.wrong(path, key, "a number")),
        }
    }

    fn date(&self, t: &toml::Table, key: &str, path: &str) -> Result<Date, ShortageError> {
        let text = match self.get(t, key, path)? {
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::String(s) => s.clone(),
            _ => return Err(self.wrong(path, key, "a date YYYY-MM-DD")),
        };
        Date::parse(&text).map_err(|e| self.bad(path, key, e.to_string()))
    }

    fn opt_date(&self, t: &toml::Table, key: &str, path: &str) -> Result<Option<Date>, ShortageError> {
        if t.contains_key(key) { self.date(t, key, path).map(Some) } else { Ok(None) }
    }

    fn table<'t>(&self, t: &'t toml::Table, key: &str, path: &str) -> Result<&'t toml::Table, ShortageError> {
        match self.get(t, key, path)? {
            toml::Value::Table(table) => Ok(table),
            _ => Err(self.wrong(path, key, "a table")),
        }
    }

    /// The tables of an array of tables; none when the key is absent.
    fn tables<'t>(&self, t: &'t toml::Table, key: &str, path: &str) -> Result<Vec<&'t toml::Table>, ShortageError> {
        match t.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(n, v)| match v {
                    toml::Value::Table(table) => Ok(table),
                    _ => Err(self.wrong(path, &format!("{key}[{n}]"), "a table")),
                })
                .collect(),
            Some(_) => Err(self.wrong(path, key, "an array of tables")),
        }
    }

    /// The tables under a table, by key; none when the key is absent.
    fn named<'t>(&self, t: &'t toml::Table, key: &str) -> Result<Vec<(&'t String, &'t toml::Table)>, ShortageError> {
        match t.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Table(items)) => items
                .iter()
                .map(|(name, v)| match v {
                    toml::Value::Table(table) => Ok((name, table)),
                    _ => Err(self.wrong(key, name, "a table")),
                })
                .collect(),
            Some(_) => Err(self.wrong("", key, "a table")),
        }
    }

    fn sources(&mut self, root: &toml::Table) -> Result<BTreeMap<String, Source>, ShortageError> {
        let mut sources = BTreeMap::new();
        for (key, t) in self.named(root, "sources")? {
            let path = join("sources", key);
            self.keys(t, &["publisher", "title", "address", "methodology", "note"], &path);
            let address = self.opt_text(t, "address", &path)?.unwrap_or_default();
            if address.is_empty() {
                let problem = ShortageProblem::NoAddress;
                self.diagnostics.push(ShortageDiagnostic { file: self.file.into(), key: path.clone(), problem });
            }
            let source = Source {
                key: key.clone(),
                publisher: self.text(t, "publisher", &path)?,
                title: self.text(t, "title", &path)?,
                address,
                methodology: self.text(t, "methodology", &path)?,
                note: self.opt_text(t, "note", &path)?,
            };
            sources.insert(key.clone(), source);
        }
        Ok(sources)
    }

    fn indicators(&mut self, root: &toml::Table) -> Result<BTreeMap<String, Indicator>, ShortageError> {
        let mut indicators = BTreeMap::new();
        for (id, t) in self.named(root, "indicators")? {
            let path = join("indicators", id);
            self.keys(t, &["direction", "en", "ru", "kk", "note"], &path);
            let direction = match self.text(t, "direction", &path)?.as_str() {
                "higher" => Direction::Higher,
                "lower" => Direction::Lower,
                other => return Err(self.bad(&path, "direction", format!("`{other}` is not `higher` or `lower`"))),
            };
            let label = Label {
                id: id.clone(),
                en: self.text(t, "en", &path)?,
                ru: self.text(t, "ru", &path)?,
                kk: self.text(t, "kk", &path)?,
            };
            indicators.insert(id.clone(), Indicator { label, direction, note: self.opt_text(t, "note", &path)? });
        }
        Ok(indicators)
    }

    fn source<'s>(
        &self,
        t: &toml::Table,
        path: &str,
        sources: &'s BTreeMap<String, Source>,
    ) -> Result<&'s Source, ShortageError> {
        let name = self.text(t, "source", path)?;
        sources.get(&name).ok_or_else(|| ShortageError::UnknownSource {
            file: self.file.into(),
            key: join(path, "source"),
            name,
        })
    }

    fn period(&self, t: &toml::Table, path: &str) -> Result<(Date, Option<Date>), ShortageError> {
        let from = self.date(t, "from", path)?;
        let until = self.opt_date(t, "until", path)?;
        if let Some(u) = until
            && u < from
        {
            return Err(self.bad(path, "until", format!("{u} is before `from` {from}")));
        }
        Ok((from, until))
    }

    fn param(
        &mut self,
        t: &toml::Table,
        key: &str,
        path: &str,
        sources: &BTreeMap<String, Source>,
    ) -> Result<Param, ShortageError> {
        let here = join(path, key);
        let p = self.table(t, key, path)?;
        self.keys(p, &["value", "source", "clause"], &here);
        let value = self.number(p, "value", &here)?;
        if value < 0.0 {
            return Err(self.bad(&here, "value", "is negative"));
        }
        let source = self.source(p, &here, sources)?;
        Ok(Param {
            value,
            clause: self.text(p, "clause", &here)?,
            source: source.key.clone(),
            address: source.address.clone(),
            methodology: source.methodology.clone(),
        })
    }

    fn washington(
        &mut self,
        t: &toml::Table,
        path: &str,
        sources: &BTreeMap<String, Source>,
    ) -> Result<WashingtonRule, ShortageError> {
        const PARAMS: [&str; 5] = [
            "min_base_employment",
            "in_demand_growth_factor",
            "in_demand_min_openings_share",
            "not_in_demand_growth_factor",
            "not_in_demand_max_openings_share",
        ];
        let mut allowed = vec!["id", "from", "until", "source", "uncertain", "note"];
        allowed.extend(PARAMS);
        self.keys(t, &allowed, path);
        let (from, until) = self.period(t, path)?;
        Ok(WashingtonRule {
            id: self.text(t, "id", path)?,
            from,
            until,
            source: self.source(t, path, sources)?.clone(),
            uncertain: self.opt_text(t, "uncertain", path)?,
            note: self.opt_text(t, "note", path)?,
            min_base_employment: self.param(t, PARAMS[0], path, sources)?,
            in_demand_growth_factor: self.param(t, PARAMS[1], path, sources)?,
            in_demand_min_openings_share: self.param(t, PARAMS[2], path, sources)?,
            not_in_demand_growth_factor: self.param(t, PARAMS[3], path, sources)?,
            not_in_demand_max_openings_share: self.param(t, PARAMS[4], path, sources)?,
        })
    }

    fn indicator(
        &self,
        name: &str,
        key: &str,
        indicators: &BTreeMap<String, Indicator>,
    ) -> Result<Indicator, ShortageError> {
        indicators.get(name).cloned().ok_or_else(|| ShortageError::UnknownIndicator {
            file: self.file.into(),
            key: key.to_string(),
            name: name.to_string(),
        })
    }

    fn share(&self, t: &toml::Table, key: &str, path: &str) -> Result<f64, ShortageError> {
        let value = self.number(t, key, path)?;
        if !(0.0..=1.0).contains(&value) {
            return Err(self.bad(path, key, format!("{value} is not a share between 0 and 1")));
        }
        Ok(value)
    }

    fn conditions(
        &mut self,
        t: &toml::Table,
        key: &str,
        path: &str,
        indicators: &BTreeMap<String, Indicator>,
    ) -> Result<Vec<Condition>, ShortageError> {
        let mut list = Vec::new();
        for (n, c) in self.tables(t, key, path)?.into_iter().enumerate() {
            let here = format!("{}[{n}]", join(path, key));
            self.keys(c, &["indicator", "at_least", "above", "at_most", "below"], &here);
            let name = self.text(c, "indicator", &here)?;
            let indicator = self.indicator(&name, &join(&here, "indicator"), indicators)?;
            let ops = [("at_least", Op::AtLeast), ("above", Op::Above), ("at_most", Op::AtMost), ("below", Op::Below)];
            let given: Vec<(&str, Op)> = ops.into_iter().filter(|(k, _)| c.contains_key(*k)).collect();
            let [(op_key, op)] = given[..] else {
                return Err(self.bad(&here, "at_least", "give exactly one of at_least, above, at_most, below"));
            };
            list.push(Condition { indicator, op, value: self.number(c, op_key, &here)? });
        }
        Ok(list)
    }

    fn composite(
        &mut self,
        t: &toml::Table,
        path: &str,
        sources: &BTreeMap<String, Source>,
        indicators: &BTreeMap<String, Indicator>,
    ) -> Result<CompositeIndex, ShortageError> {
        let allowed = [
            "id",
            "title",
            "from",
            "until",
            "source",
            "adaptation",
            "uncertain",
            "note",
            "min_indicators",
            "classify",
            "weights",
        ];
        self.keys(t, &allowed, path);
        let id = self.text(t, "id", path)?;
        let (from, until) = self.period(t, path)?;

        let mut weights = Vec::new();
        let mut sum = Some(Decimal { mantissa: 0, scale: 0 });
        let mut float_sum = 0.0;
        let weights_path = join(path, "weights");
        if t.contains_key("weights") {
            let table = self.table(t, "weights", path)?;
            for (name, v) in table {
                let here = join(&weights_path, name);
                let toml::Value::Table(w) = v else {
                    return Err(self.wrong(&weights_path, name, "a table with `weight`"));
                };
                self.keys(w, &["weight", "maps"], &here);
                let indicator = self.indicator(name, &here, indicators)?;
                let weight = self.number(w, "weight", &here)?;
                if weight <= 0.0 {
                    return Err(self.bad(&here, "weight", "is not positive"));
                }
                sum = sum.and_then(|s| s.add(Decimal::of(weight)?));
                float_sum += weight;
                weights.push(Weight { indicator, weight, maps: self.opt_text(w, "maps", &here)? });
            }
        }

        let classify_path = join(path, "classify");
        let c = self.table(t, "classify", path)?;
        let classify = match self.text(c, "method", &classify_path)?.as_str() {
            "rank_share" => {
                self.keys(c, &["method", "top", "bottom"], &classify_path);
                let top = self.share(c, "top", &classify_path)?;
                let bottom = self.share(c, "bottom", &classify_path)?;
                let total = Decimal::of(top).zip(Decimal::of(bottom)).and_then(|(a, b)| a.add(b));
                let one = Decimal { mantissa: 1, scale: 0 };
                let over = total.and_then(|s| s.compare(one)).map_or(top + bottom > 1.0, |o| o == Ordering::Greater);
                if over {
                    return Err(self.bad(&classify_path, "bottom", format!("top {top} and bottom {bottom} exceed 1")));
                }
                if weights.is_empty() {
                    return Err(ShortageError::Missing { file: self.file.into(), key: weights_path });
                }
                Classify::RankShare { top, bottom }
            }
            "thresholds" => {
                self.keys(c, &["method", "in_demand", "not_in_demand"], &classify_path);
                Classify::Thresholds {
                    in_demand: self.conditions(c, "in_demand", &classify_path, indicators)?,
                    not_in_demand: self.conditions(c, "not_in_demand", &classify_path, indicators)?,
                }
            }
            other => {
                let message = format!("`{other}` is not `rank_share` or `thresholds`");
                return Err(self.bad(&classify_path, "method", message));
            }
        };

        if !weights.is_empty() {
            let one = Decimal { mantissa: 1, scale: 0 };
            let exact = sum.and_then(|s| s.compare(one).map(|o| (o, s)));
            let (is_one, shown) = match exact {
                Some((o, s)) => (o == Ordering::Equal, s.to_string()),
                None => ((float_sum - 1.0).abs() <= 1e-12, float_sum.to_string()),
            };
            if !is_one {
                return Err(ShortageError::WeightSum { file: self.file.into(), config: id, from, sum: shown });
            }
        }

        let index = CompositeIndex {
            id,
            title: self.text(t, "title", path)?,
            from,
            until,
            source: self.source(t, path, sources)?.clone(),
            adaptation: self.opt_text(t, "adaptation", path)?,
            uncertain: self.opt_text(t, "uncertain", path)?,
            note: self.opt_text(t, "note", path)?,
            min_indicators: 0,
            weights,
            classify,
        };
        let available = index.indicators().len();
        let min = self.number(t, "min_indicators", path)?;
        if min.fract() != 0.0 || min < 1.0 || min > available as f64 {
            let message =
                format!("{min} is not a whole number from 1 to the {available} indicators of the configuration");
            return Err(self.bad(path, "min_indicators", message));
        }
        Ok(CompositeIndex { min_indicators: min as usize, ..index })
    }
}
