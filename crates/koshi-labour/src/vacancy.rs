//! A vacancy posting as the regional vacancy database keeps it, and the small validated types it
//! is made of.
//!
//! A [`Vacancy`] is one posting from one source: the portal or employment-centre export it came
//! from and its id there, the title and (bounded) description, the employer with its BIN, the place
//! (region and settlement as written, and the codes they resolve to), the occupation, what is
//! required, the wage offered, the number of openings and the dates of its life. Every field that
//! has a format is a type that checks it: [`Date`] (`YYYY-MM-DD`, no clock), [`Bin`] (12 digits
//! and the check digit), [`Kato`] (9 digits), [`IscoCode`] (4 digits), [`Region`] (the 20 regions
//! of the 2022 layout with their ISO 3166-2 codes), [`Currency`] and [`Wage`] (kept as offered and
//! normalised to a month where the period is known).

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// The longest title kept, in characters; a longer one is cut.
pub const MAX_TITLE_CHARS: usize = 300;
/// The longest description kept, in characters; a longer one is cut.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// Hours in a month of full-time work: 40 hours a week (the normal working time of the Labour
/// Code of Kazakhstan) × 52 weeks / 12.
pub const HOURS_PER_MONTH: f64 = 40.0 * 52.0 / 12.0;
/// Working days in a month of a five-day week: 5 × 52 / 12.
pub const DAYS_PER_MONTH: f64 = 5.0 * 52.0 / 12.0;
/// Weeks in a month: 52 / 12.
pub const WEEKS_PER_MONTH: f64 = 52.0 / 12.0;

/// A field that does not have its format.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VacancyError {
    #[error("`{0}` is not a date written YYYY-MM-DD (years 1900 to 2199)")]
    BadDate(String),
    #[error("`{0}` is not 12 digits, as a BIN or IIN is")]
    BinFormat(String),
    #[error("`{0}` fails the check digit of a BIN or IIN")]
    BinCheckDigit(String),
    #[error("`{0}` is not a 9-digit KATO code")]
    BadKato(String),
    #[error("`{0}` is not a 4-digit ISCO-08 unit group")]
    BadIsco(String),
    #[error("`{0}` is not one of the region codes KZ-10 … KZ-79")]
    BadRegion(String),
    #[error("`{0}` is not a currency (a three-letter code, or тенге, ₸, $, €, ₽)")]
    BadCurrency(String),
    #[error("a wage needs a minimum or a maximum")]
    NoWage,
    #[error("wage amount {0} is not a finite, non-negative number")]
    BadAmount(f64),
    #[error("wage minimum {min} is above the maximum {max}")]
    WageOrder { min: f64, max: f64 },
    #[error("the {0} is empty")]
    Empty(&'static str),
    #[error("{field} {date} is before the posting date {posted}")]
    DateOrder { field: &'static str, date: Date, posted: Date },
    #[error("KATO code {kato} lies in {kato_region}, not in the posting's region {region}")]
    KatoRegion { kato: String, kato_region: &'static str, region: &'static str },
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// A calendar date (proleptic Gregorian), years 1900 to 2199. Ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

const CUMULATIVE_DAYS: [i32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Leap years from year 1 to `year - 1`.
fn leaps_before(year: i32) -> i32 {
    let y = year - 1;
    y / 4 - y / 100 + y / 400
}

impl Date {
    pub const MIN_YEAR: u16 = 1900;
    pub const MAX_YEAR: u16 = 2199;

    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, VacancyError> {
        let ok = (Date::MIN_YEAR..=Date::MAX_YEAR).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year as i32, month);
        if ok {
            Ok(Date { year, month, day })
        } else {
            Err(VacancyError::BadDate(format!("{year:04}-{month:02}-{day:02}")))
        }
    }

    /// Exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, VacancyError> {
        let bad = || VacancyError::BadDate(clip(text, 40));
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = &b[range];
            part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0u16, |n, d| n * 10 + (d - b'0') as u16))
        };
        match (num(0..4), num(5..7), num(8..10)) {
            (Some(y), Some(m), Some(d)) => Date::new(y, m as u8, d as u8).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    /// The date of an ISO 8601 date or date-time: `YYYY-MM-DD`, or `YYYY-MM-DD` followed by `T` or a
    /// space and a time (with or without a zone). The date is taken as written: a time zone does not
    /// move it.
    pub fn parse_date_or_datetime(text: &str) -> Result<Date, VacancyError> {
        let text = text.trim();
        let head = text.get(..10).ok_or_else(|| VacancyError::BadDate(clip(text, 40)))?;
        let rest = &text[10..];
        if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
            return Err(VacancyError::BadDate(clip(text, 40)));
        }
        Date::parse(head).map_err(|_| VacancyError::BadDate(clip(text, 40)))
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i32 {
        let y = self.year as i32;
        let m = self.month as usize;
        365 * (y - 1970)
            + (leaps_before(y) - leaps_before(1970))
            + CUMULATIVE_DAYS[m - 1]
            + i32::from(m > 2 && is_leap(y))
            + self.day as i32
            - 1
    }

    /// The date `days` days after 1970-01-01, if it lies in the supported years.
    pub fn from_days(days: i32) -> Option<Date> {
        let min = Date { year: Date::MIN_YEAR, month: 1, day: 1 }.days();
        let max = Date { year: Date::MAX_YEAR, month: 12, day: 31 }.days();
        if days < min || days > max {
            return None;
        }
        let mut year = (1970 + days.div_euclid(366)).clamp(Date::MIN_YEAR as i32, Date::MAX_YEAR as i32);
        while year > Date::MIN_YEAR as i32 && (Date { year: year as u16, month: 1, day: 1 }).days() > days {
            year -= 1;
        }
        while year < Date::MAX_YEAR as i32 && (Date { year: year as u16 + 1, month: 1, day: 1 }).days() <= days {
            year += 1;
        }
        let mut rest = days - Date { year: year as u16, month: 1, day: 1 }.days();
        let mut month = 1u8;
        while rest >= days_in_month(year, month) as i32 {
            rest -= days_in_month(year, month) as i32;
            month += 1;
        }
        Some(Date { year: year as u16, month, day: rest as u8 + 1 })
    }

    /// The date `n` days later (earlier for a negative `n`), if it lies in the supported years.
    pub fn add_days(self, n: i32) -> Option<Date> {
        Date::from_days(self.days().checked_add(n)?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// At most `n` characters of a text, for messages.
pub(crate) fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------
// Identifiers and codes
// ---------------------------------------------------------------------------------------------

/// A business identification number (BIN) of a legal entity, or the individual identification
/// number (IIN) an individual entrepreneur is registered under: 12 digits, the last a check digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bin(String);

/// What a 12-digit number identifies, by its fifth digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BinKind {
    /// Fifth digit 4, 5 or 6: a BIN (resident or non-resident legal entity, joint entrepreneurship).
    LegalEntity,
    /// Any other fifth digit: an IIN, the first six digits a birth date.
    Individual,
}

impl Bin {
    /// The check digit of the first eleven digits: Σ digitᵢ × i (i = 1…11) mod 11; if that is 10,
    /// the weights 3…11, 1, 2 instead; if that is 10 again, the number is never issued.
    pub fn check_digit(first: &[u8; 11]) -> Option<u8> {
        let sum =
            |weights: &dyn Fn(usize) -> u32| first.iter().enumerate().map(|(i, &d)| d as u32 * weights(i)).sum::<u32>();
        let first_pass = sum(&|i| i as u32 + 1) % 11;
        if first_pass < 10 {
            return Some(first_pass as u8);
        }
        let second = sum(&|i| ((i as u32 + 2) % 11) + 1) % 11;
        (second < 10).then_some(second as u8)
    }

    /// Twelve digits (spaces and hyphens between them are allowed) with a valid check digit.
    pub fn parse(text: &str) -> Result<Bin, VacancyError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}')).collect();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VacancyError::BinFormat(clip(text, 40)));
        }
        let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let mut first = [0u8; 11];
        first.copy_from_slice(&d[..11]);
        if Bin::check_digit(&first) != Some(d[11]) {
            return Err(VacancyError::BinCheckDigit(digits));
        }
        Ok(Bin(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> BinKind {
        if matches!(self.0.as_bytes()[4], b'4' | b'5' | b'6') { BinKind::LegalEntity } else { BinKind::Individual }
    }
}

/// A code of the classifier of administrative-territorial objects (KATO): 9 digits, the first two
/// the region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kato(String);

impl Kato {
    pub fn parse(text: &str) -> Result<Kato, VacancyError> {
        let t = text.trim();
        if t.len() == 9 && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Kato(t.to_string()))
        } else {
            Err(VacancyError::BadKato(clip(text, 40)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region of the code's first two digits, in the 2022 layout.
    pub fn region(&self) -> Option<Region> {
        Region::from_kato_prefix(&self.0[..2])
    }
}

/// An ISCO-08 unit group: four digits. Whether it exists is for [`crate::Isco`] to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IscoCode([u8; 4]);

impl IscoCode {
    pub fn parse(text: &str) -> Result<IscoCode, VacancyError> {
        let t = text.trim();
        let b = t.as_bytes();
        if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
            Ok(IscoCode([b[0], b[1], b[2], b[3]]))
        } else {
            Err(VacancyError::BadIsco(clip(text, 40)))
        }
    }

    pub fn as_str(&self) -> &str {
        // Four ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("0000")
    }

    /// The major group, 0 to 9.
    pub fn major(&self) -> u8 {
        self.0[0] - b'0'
    }

    /// The code cut to `digits` digits (1 to 4).
    pub fn prefix(&self, digits: usize) -> &str {
        &self.as_str()[..digits.clamp(1, 4)]
    }
}

macro_rules! serialize_as_str {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

serialize_as_str!(Bin, Kato, IscoCode, Currency, Region, Description);

// ---------------------------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------------------------

/// The 17 regions and 3 cities of republican significance of Kazakhstan, in the layout of 2022
/// (Abai, Zhetysu and Ulytau regions formed). The ISO 3166-2 code is `KZ-` and the first two
/// digits of the region's KATO codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    Abai,
    Akmola,
    Aktobe,
    AlmatyRegion,
    Atyrau,
    WestKazakhstan,
    Zhambyl,
    Zhetysu,
    Karaganda,
    Kostanay,
    Kyzylorda,
    Mangystau,
    Pavlodar,
    NorthKazakhstan,
    Turkestan,
    Ulytau,
    EastKazakhstan,
    Astana,
    Almaty,
    Shymkent,
}

struct RegionInfo {
    region: Region,
    iso: &'static str,
    en: &'static str,
    ru: &'static str,
    kk: &'static str,
    /// Names of the region itself (with a marker such as "область" or alone), folded (see `fold`).
    names: &'static str,
    /// Towns of the region, folded; the first is the administrative centre. Separated by `;`.
    towns: &'static str,
}

const REGIONS: [RegionInfo; 20] = [
    RegionInfo {
        region: Region::Abai,
        iso: "KZ-10",
        en: "Abai Region",
        ru: "Абайская область",
        kk: "Абай облысы",
        names: "абайск;абай;abai;abay",
        towns: "семей;семипалатинск;аягоз;курчатов;semey;semei",
    },
    RegionInfo {
        region: Region::Akmola,
        iso: "KZ-11",
        en: "Akmola Region",
        ru: "Акмолинская область",
        kk: "Ақмола облысы",
        names: "акмолинск;акмола;akmola;aqmola",
        towns: "кокшетау;степногорск;косшы;щучинск;макинск;kokshetau;kokshetaw",
    },
    RegionInfo {
        region: Region::Aktobe,
        iso: "KZ-15",
        en: "Aktobe Region",
        ru: "Актюбинская область",
        kk: "Ақтөбе облысы",
        names: "актюбинск;актобе;aktobe;aqtobe",
        towns: "актобе;хромтау;кандыагаш;шалкар;aktobe;aqtobe",
    },
    RegionInfo {
        region: Region::AlmatyRegion,
        iso: "KZ-19",
        en: "Almaty Region",
        ru: "Алматинская область",
        kk: "Алматы облысы",
        names: "алматинск;алматы;almaty",
        towns: "конаев;капчагай;капшагай;талгар;каскелен;есик;иссык;konaev;qonaev;kapchagay",
    },
    RegionInfo {
        region: Region::Atyrau,
        iso: "KZ-23",
        en: "Atyrau Region",
        ru: "Атырауская область",
        kk: "Атырау облысы",
        names: "атырауск;атырау;atyrau",
        towns: "атырау;кульсары;тенгиз;atyrau;kulsary",
    },
    RegionInfo {
        region: Region::WestKazakhstan,
        iso: "KZ-27",
        en: "West Kazakhstan Region",
        ru: "Западно-Казахстанская область",
        kk: "Батыс Қазақстан облысы",
        names: "западно казахстанск;батыс казакстан;west kazakhstan;зко",
        towns: "уральск;орал;аксай;uralsk;oral",
    },
    RegionInfo {
        region: Region::Zhambyl,
        iso: "KZ-31",
        en: "Zhambyl Region",
        ru: "Жамбылская область",
        kk: "Жамбыл облысы",
        names: "жамбылск;жамбыл;zhambyl;jambyl",
        towns: "тараз;шу;жанатас;каратау;taraz",
    },
    RegionInfo {
        region: Region::Zhetysu,
        iso: "KZ-33",
        en: "Zhetysu Region",
        ru: "Жетысуская область",
        kk: "Жетісу облысы",
        names: "жетысуск;жетису;жетысу;zhetysu;jetisu",
        towns: "талдыкорган;текели;жаркент;ушарал;taldykorgan",
    },
    RegionInfo {
        region: Region::Karaganda,
        iso: "KZ-35",
        en: "Karaganda Region",
        ru: "Карагандинская область",
        kk: "Қарағанды облысы",
        names: "карагандинск;караганды;караганда;karaganda;qaragandy",
        towns: "караганда;караганды;темиртау;балхаш;шахтинск;сарань;karaganda;qaragandy;temirtau",
    },
    RegionInfo {
        region: Region::Kostanay,
        iso: "KZ-39",
        en: "Kostanay Region",
        ru: "Костанайская область",
        kk: "Қостанай облысы",
        names: "костанайск;костанай;kostanay;qostanay",
        towns: "костанай;рудный;лисаковск;аркалык;житикара;kostanay;rudny",
    },
    RegionInfo {
        region: Region::Kyzylorda,
        iso: "KZ-43",
        en: "Kyzylorda Region",
        ru: "Кызылординская область",
        kk: "Қызылорда облысы",
        names: "кызылординск;кызылорда;kyzylorda;qyzylorda",
        towns: "кызылорда;аральск;казалинск;жосалы;kyzylorda",
    },
    RegionInfo {
        region: Region::Mangystau,
        iso: "KZ-47",
        en: "Mangystau Region",
        ru: "Мангистауская область",
        kk: "Маңғыстау облысы",
        names: "мангистауск;мангыстауск;мангистау;мангыстау;mangystau;mangistau",
        towns: "актау;жанаозен;бейнеу;форт шевченко;aktau;zhanaozen",
    },
    RegionInfo {
        region: Region::Pavlodar,
        iso: "KZ-55",
        en: "Pavlodar Region",
        ru: "Павлодарская область",
        kk: "Павлодар облысы",
        names: "павлодарск;павлодар;pavlodar",
        towns: "павлодар;экибастуз;аксу;pavlodar;ekibastuz",
    },
    RegionInfo {
        region: Region::NorthKazakhstan,
        iso: "KZ-59",
        en: "North Kazakhstan Region",
        ru: "Северо-Казахстанская область",
        kk: "Солтүстік Қазақстан облысы",
        names: "северо казахстанск;солтустик казакстан;north kazakhstan;ско",
        towns: "петропавловск;петропавл;булаево;мамлютка;petropavl;petropavlovsk",
    },
    RegionInfo {
        region: Region::Turkestan,
        iso: "KZ-61",
        en: "Turkestan Region",
        ru: "Туркестанская область",
        kk: "Түркістан облысы",
        names: "туркестанск;туркистан;туркестан;turkestan;turkistan;южно казахстанск;юко",
        towns: "туркестан;туркистан;кентау;сарыагаш;арыс;жетысай;ленгер;turkestan;turkistan",
    },
    RegionInfo {
        region: Region::Ulytau,
        iso: "KZ-62",
        en: "Ulytau Region",
        ru: "Улытауская область",
        kk: "Ұлытау облысы",
        names: "улытауск;улытау;ulytau",
        towns: "жезказган;сатпаев;каражал;zhezkazgan;satpaev",
    },
    RegionInfo {
        region: Region::EastKazakhstan,
        iso: "KZ-63",
        en: "East Kazakhstan Region",
        ru: "Восточно-Казахстанская область",
        kk: "Шығыс Қазақстан облысы",
        names: "восточно казахстанск;шыгыс казакстан;east kazakhstan;вко",
        towns: "усть каменогорск;оскемен;риддер;алтай;зыряновск;шемонаиха;ust kamenogorsk;oskemen;ridder",
    },
    RegionInfo {
        region: Region::Astana,
        iso: "KZ-71",
        en: "Astana",
        ru: "Астана",
        kk: "Астана",
        names: "астана;astana;нур султан;nur sultan",
        towns: "астана;нур султан;целиноград;astana;nur sultan",
    },
    RegionInfo {
        region: Region::Almaty,
        iso: "KZ-75",
        en: "Almaty",
        ru: "Алматы",
        kk: "Алматы",
        names: "",
        towns: "алматы;алма ата;almaty;alma ata",
    },
    RegionInfo {
        region: Region::Shymkent,
        iso: "KZ-79",
        en: "Shymkent",
        ru: "Шымкент",
        kk: "Шымкент",
        names: "шымкент;shymkent",
        towns: "шымкент;чимкент;shymkent",
    },
];

/// Words that mark a region ("область") and a town ("город"), folded.
const REGION_MARKERS: &[&str] = &["область", "обл", "облысы", "region", "oblast", "oblysy", "province", "области"];
const TOWN_MARKERS: &[&str] =
    &["г", "гор", "город", "каласы", "city", "town", "пос", "поселок", "село", "с", "ауыл", "кент"];

/// Lower case, `ё` as `е`, the Kazakh letters as their nearest Russian ones, adjective endings
/// ("-ская", "-ской", "-скую") cut to "-ск", punctuation as spaces.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ё' => 'е',
            'ә' => 'а',
            'ғ' => 'г',
            'қ' => 'к',
            'ң' => 'н',
            'ө' => 'о',
            'ұ' | 'ү' => 'у',
            'һ' => 'х',
            'і' => 'и',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        out.push(c);
    }
    out.split_whitespace()
        .map(|w| {
            for ending in ["ская", "ской", "скую", "ские", "ских"] {
                if let Some(stem) = w.strip_suffix(ending)
                    && stem.chars().count() >= 3
                {
                    return format!("{stem}ск");
                }
            }
            w.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Region {
    pub const ALL: [Region; 20] = [
        Region::Abai,
        Region::Akmola,
        Region::Aktobe,
        Region::AlmatyRegion,
        Region::Atyrau,
        Region::WestKazakhstan,
        Region::Zhambyl,
        Region::Zhetysu,
        Region::Karaganda,
        Region::Kostanay,
        Region::Kyzylorda,
        Region::Mangystau,
        Region::Pavlodar,
        Region::NorthKazakhstan,
        Region::Turkestan,
        Region::Ulytau,
        Region::EastKazakhstan,
        Region::Astana,
        Region::Almaty,
        Region::Shymkent,
    ];

    fn info(self) -> &'static RegionInfo {
        &REGIONS[self as usize]
    }

    /// The ISO 3166-2 code, `KZ-10` … `KZ-79`.
    pub fn as_str(&self) -> &'static str {
        self.info().iso
    }

    /// The first two digits of the region's KATO codes.
    pub fn kato_prefix(self) -> &'static str {
        &self.info().iso[3..]
    }

    pub fn name_en(self) -> &'static str {
        self.info().en
    }

    pub fn name_ru(self) -> &'static str {
        self.info().ru
    }

    pub fn name_kk(self) -> &'static str {
        self.info().kk
    }

    /// The administrative centre and other towns of the region, folded (lower case, Kazakh letters
    /// as Russian ones); the first is the centre.
    pub fn towns(self) -> impl Iterator<Item = &'static str> {
        self.info().towns.split(';').filter(|t| t.chars().any(|c| ('а'..='я').contains(&c)))
    }

    /// A city of republican significance (Astana, Almaty, Shymkent).
    pub fn is_city(self) -> bool {
        matches!(self, Region::Astana | Region::Almaty | Region::Shymkent)
    }

    /// `KZ-75` (or `75`) to Almaty.
    pub fn from_code(code: &str) -> Result<Region, VacancyError> {
        let c = code.trim();
        let digits = c.strip_prefix("KZ-").or_else(|| c.strip_prefix("kz-")).unwrap_or(c);
        Region::from_kato_prefix(digits).ok_or_else(|| VacancyError::BadRegion(clip(code, 40)))
    }

    pub fn from_kato_prefix(prefix: &str) -> Option<Region> {
        REGIONS.iter().find(|r| &r.iso[3..] == prefix).map(|r| r.region)
    }

    /// The region a place name written in a posting refers to: "г. Алматы" (the city),
    /// "Алматинская область" and "Алматы облысы" (the region), "Туркестанская обл.", "Астана",
    /// "Нур-Султан", "Қарағанды қ.", "Shymkent", or a town ("Экибастуз" → Pavlodar Region). Parts
    /// separated by commas are tried in turn; a part with a region marker ("область", "облысы",
    /// "region") is read as a region name, otherwise as a town first. `None` when nothing is known.
    pub fn resolve(text: &str) -> Option<Region> {
        text.split([',', ';', '/', '(', ')', '|']).find_map(resolve_part)
    }
}

fn lookup(key: &str, names: bool) -> Option<Region> {
    REGIONS
        .iter()
        .find(|r| {
            let list = if names { r.names } else { r.towns };
            !list.is_empty() && list.split(';').any(|n| n == key)
        })
        .map(|r| r.region)
}

fn resolve_part(part: &str) -> Option<Region> {
    let folded = fold(part);
    let words: Vec<&str> = folded.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let region_marker = words.iter().any(|w| REGION_MARKERS.contains(w));
    let town_marker = words.iter().any(|w| TOWN_MARKERS.contains(w));
    let content: Vec<&str> =
        words.iter().copied().filter(|w| !REGION_MARKERS.contains(w) && !TOWN_MARKERS.contains(w)).collect();
    // Whole part first, then two-word and one-word pieces in order.
    let mut keys: Vec<String> = vec![content.join(" ")];
    keys.extend(content.windows(2).map(|w| w.join(" ")));
    keys.extend(content.iter().map(|w| w.to_string()));
    for key in keys.iter().filter(|k| !k.is_empty()) {
        let found = if region_marker && !town_marker {
            lookup(key, true).or_else(|| lookup(key, false))
        } else {
            lookup(key, false).or_else(|| lookup(key, true))
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Wage
// ---------------------------------------------------------------------------------------------

/// A currency: a three-letter ISO 4217 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const KZT: Currency = Currency(*b"KZT");

    /// A three-letter code in any case, or a way postings write one: "тенге", "тг", "₸", "$",
    /// "руб", "₽", "€", "сом".
    pub fn parse(text: &str) -> Result<Currency, VacancyError> {
        let t = text.trim().trim_end_matches('.').to_lowercase();
        let code = match t.as_str() {
            "тенге" | "тг" | "₸" | "теңге" | "kzt" | "tenge" => "KZT",
            "$" | "usd" | "долл" | "доллар" => "USD",
            "€" | "eur" | "евро" => "EUR",
            "₽" | "руб" | "rub" | "рубль" | "рублей" => "RUB",
            "сом" | "kgs" => "KGS",
            _ => "",
        };
        let code = if code.is_empty() { t.to_uppercase() } else { code.to_string() };
        let b = code.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(VacancyError::BadCurrency(clip(text, 40)))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// The period a wage is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayPeriod {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl PayPeriod {
    /// How many of the period make a month of full-time work.
    pub fn per_month(self) -> f64 {
        match self {
            PayPeriod::Hour => HOURS_PER_MONTH,
            PayPeriod::Day => DAYS_PER_MONTH,
            PayPeriod::Week => WEEKS_PER_MONTH,
            PayPeriod::Month => 1.0,
            PayPeriod::Year => 1.0 / 12.0,
        }
    }

    /// schema.org's `unitText` (HOUR, DAY, WEEK, MONTH, YEAR) in any case, or Russian and Kazakh
    /// words for the period.
    pub fn parse(text: &str) -> Option<PayPeriod> {
        let t = fold(text);
        let t = t.trim_start_matches("в ").trim_start_matches("за ").trim();
        Some(match t {
            "hour" | "hourly" | "час" | "сагат" | "hr" => PayPeriod::Hour,
            "day" | "daily" | "день" | "сутки" | "смена" | "кун" => PayPeriod::Day,
            "week" | "weekly" | "неделя" | "неделю" | "апта" => PayPeriod::Week,
            "month" | "monthly" | "месяц" | "мес" | "ай" => PayPeriod::Month,
            "year" | "yearly" | "annual" | "год" | "жыл" => PayPeriod::Year,
            _ => return None,
        })
    }
}

/// A wage offered: the amounts as the posting gives them, and the same per month where the
/// period is known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wage {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub currency: Option<Currency>,
    pub period: Option<PayPeriod>,
    /// `min` for a month of full-time work; `None` when the period is unknown.
    pub monthly_min: Option<f64>,
    pub monthly_max: Option<f64>,
}

impl Wage {
    pub fn new(
        min: Option<f64>,
        max: Option<f64>,
        currency: Option<Currency>,
        period: Option<PayPeriod>,
    ) -> Result<Wage, VacancyError> {
        for v in [min, max].into_iter().flatten() {
            if !v.is_finite() || v < 0.0 {
                return Err(VacancyError::BadAmount(v));
            }
        }
        match (min, max) {
            (None, None) => return Err(VacancyError::NoWage),
            (Some(lo), Some(hi)) if lo > hi => return Err(VacancyError::WageOrder { min: lo, max: hi }),
            _ => {}
        }
        let monthly = |v: Option<f64>| Some(v? * period?.per_month());
        Ok(Wage { min, max, currency, period, monthly_min: monthly(min), monthly_max: monthly(max) })
    }

    /// The monthly range, one end standing for the other when only one is given.
    pub fn monthly_range(&self) -> Option<(f64, f64)> {
        match (self.monthly_min, self.monthly_max) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            (Some(v), None) | (None, Some(v)) => Some((v, v)),
            (None, None) => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requirements and terms
// ---------------------------------------------------------------------------------------------

/// The education a posting asks for, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EducationLevel {
    /// No requirement.
    None,
    /// General secondary (school).
    Secondary,
    /// Technical and vocational (college, "среднее специальное", "ТиПО").
    Vocational,
    /// Higher education begun, not finished.
    IncompleteHigher,
    /// Higher education (bachelor, specialist).
    Higher,
    /// Master's, doctorate.
    Postgraduate,
}

const EDUCATION_PATTERNS: &[(EducationLevel, &[&str])] = &[
    (
        EducationLevel::None,
        &[
            "без образования",
            "образование не требуется",
            "не требуется",
            "не имеет значения",
            "не важно",
            "no education",
            "not required",
            "талап етилмейди",
            "манызды емес",
        ],
    ),
    (
        EducationLevel::Postgraduate,
        &["магистр", "master", "phd", "доктор", "postgraduate", "послевузовск", "жогары оку орнынан кейинги"],
    ),
    (
        EducationLevel::IncompleteHigher,
        &["неоконченное высшее", "незаконченное высшее", "неполное высшее", "incomplete higher", "аяктамаган жогары"],
    ),
    (
        EducationLevel::Higher,
        &["высшее", "высш", "бакалавр", "bachelor", "higher", "university degree", "вуз", "жогары"],
    ),
    (
        EducationLevel::Vocational,
        &[
            "среднее специальное",
            "средне специальное",
            "среднее профессиональное",
            "техническое и профессиональное",
            "типо",
            "колледж",
            "техникум",
            "орта арнаулы",
            "техникалык жане касиптик",
            "vocational",
            "associate degree",
            "professional certificate",
            "college",
        ],
    ),
    (EducationLevel::Secondary, &["общее среднее", "среднее", "school", "high school", "secondary", "школ", "орта"]),
];

impl EducationLevel {
    /// The lowest level a text names ("высшее или среднее специальное" asks for vocational at
    /// least); schema.org's `credentialCategory` values ("high school", "associate degree",
    /// "bachelor degree", "professional certificate", "postgraduate degree") and Russian and Kazakh
    /// words. `None` when no level is named.
    pub fn classify(text: &str) -> Option<EducationLevel> {
        let mut rest = format!(" {} ", fold(text));
        let mut found: Option<EducationLevel> = None;
        for (level, patterns) in EDUCATION_PATTERNS {
            for p in *patterns {
                let needle = format!(" {p}");
                if rest.contains(&needle) {
                    rest = rest.replace(&needle, " ");
                    found = Some(found.map_or(*level, |f| f.min(*level)));
                }
            }
        }
        found
    }
}

/// The education required: the level, when the text names one, and the text as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Education {
    pub level: Option<EducationLevel>,
    pub text: String,
}

impl Education {
    pub fn from_text(text: &str) -> Education {
        Education { level: EducationLevel::classify(text), text: text.trim().to_string() }
    }
}

const NO_EXPERIENCE: &[&str] = &[
    "без опыта",
    "опыт не требуется",
    "опыт работы не требуется",
    "не требуется",
    "нет опыта",
    "no experience",
    "not required",
    "тажирибесиз",
    "тажирибе талап етилмейди",
    "без опыта работы",
];

/// Months of experience a text asks for: "от 1 года" (12), "1-3 года" (12, the lower end),
/// "не менее 3 лет" (36), "6 месяцев", "2 жыл", "3+ years", "без опыта" (0), "от года" (12),
/// "полгода" (6). `None` when the text gives no amount.
pub fn experience_months(text: &str) -> Option<u32> {
    let t = fold(text);
    let padded = format!(" {t} ");
    if NO_EXPERIENCE.iter().any(|p| padded.contains(&format!(" {p}"))) {
        return Some(0);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let unit = |w: &str| -> Option<f64> {
        if w.starts_with("год")
            || w.starts_with("лет")
            || w.starts_with("жыл")
            || w.starts_with("year")
            || w == "yr"
            || w == "yrs"
        {
            Some(12.0)
        } else if w.starts_with("месяц")
            || w.starts_with("мес")
            || w == "ай"
            || w.starts_with("айд")
            || w.starts_with("month")
        {
            Some(1.0)
        } else {
            None
        }
    };
    let number = |w: &str| -> Option<f64> {
        let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            return digits.parse().ok();
        }
        Some(match w {
            "один" | "одного" | "бир" | "one" => 1.0,
            "два" | "двух" | "еки" | "two" => 2.0,
            "три" | "трех" | "уш" | "three" => 3.0,
            "четыре" | "четырех" | "four" => 4.0,
            "пять" | "пяти" | "бес" | "five" => 5.0,
            "полгода" | "полугода" => return Some(0.5),
            _ => return None,
        })
    };
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "полгода" | "полугода") {
            return Some(6);
        }
        if let Some(n) = number(w) {
            // "1 5 года" is "1,5 года" after folding; a range "1 3 года" takes the lower end.
            let mut j = i + 1;
            let mut value = n;
            if let Some(next) = words.get(j)
                && next.chars().all(|c| c.is_ascii_digit())
                && words.get(j + 1).and_then(|u| unit(u)).is_some()
                && text.contains(&format!("{n},{next}"))
            {
                value = format!("{n}.{next}").parse().unwrap_or(n);
            }
            // Skip the rest of a range and its ornaments: "1 до 3", "2-х", "3+ years", "3 и более лет".
            const SKIP: &[&str] =
                &["до", "to", "или", "и", "более", "plus", "or", "more", "жане", "артык", "х", "ух", "ех", "ти", "ми"];
            while j < i + 6 && words.get(j).is_some_and(|w| number(w).is_some() || SKIP.contains(w)) {
                j += 1;
            }
            if let Some(per) = words.get(j).and_then(|u| unit(u)) {
                return Some((value * per).round() as u32);
            }
        } else if (w.starts_with("год") || *w == "года")
            && i > 0
            && matches!(words[i - 1], "от" | "более" | "больше" | "минимум")
        {
            return Some(12);
        }
    }
    None
}

/// The terms of employment, schema.org's `employmentType` values and rotational work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentType {
    FullTime,
    PartTime,
    Contractor,
    Temporary,
    Intern,
    Volunteer,
    PerDiem,
    /// Rotational (shift-camp) work, "вахтовый метод".
    Rotation,
    Other,
}

impl EmploymentType {
    /// `FULL_TIME`, `PART_TIME`, … in any case and spelling, or Russian and Kazakh words
    /// ("полная занятость", "вахтовый метод", "толық жұмыс күні"). `None` when not known.
    pub fn parse(text: &str) -> Option<EmploymentType> {
        let t = fold(text).replace(' ', "_");
        let t = t.as_str();
        let has = |parts: &[&str]| parts.iter().any(|p| t.contains(p));
        Some(if has(&["вахт", "rotation", "fifo"]) {
            EmploymentType::Rotation
        } else if has(&["part_time", "parttime", "частичн", "неполн", "толык_емес", "жартылай"])
        {
            EmploymentType::PartTime
        } else if has(&["full_time", "fulltime", "полная", "полный", "толык"]) {
            EmploymentType::FullTime
        } else if has(&["contract", "подряд", "гпх", "договор"]) {
            EmploymentType::Contractor
        } else if has(&["temporary", "временн", "сезон", "уакытша", "маусымдык"]) {
            EmploymentType::Temporary
        } else if has(&["intern", "стажир", "практик", "тагылымдама"]) {
            EmploymentType::Intern
        } else if has(&["volunteer", "волонт", "ерикти"]) {
            EmploymentType::Volunteer
        } else if has(&["per_diem", "perdiem", "подработ", "поденн"]) {
            EmploymentType::PerDiem
        } else if t == "other" {
            EmploymentType::Other
        } else {
            return None;
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The posting
// ---------------------------------------------------------------------------------------------

/// A description, at most [`MAX_DESCRIPTION_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// The text trimmed and cut to [`MAX_DESCRIPTION_CHARS`]; `true` with it when it was cut.
    pub fn new(text: &str) -> (Description, bool) {
        let t = text.trim();
        match t.char_indices().nth(MAX_DESCRIPTION_CHARS) {
            Some((cut, _)) => (Description(t[..cut].trim_end().to_string()), true),
            None => (Description(t.to_string()), false),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The employer: its name as the posting writes it and its BIN when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Employer {
    pub name: Option<String>,
    pub bin: Option<Bin>,
}

/// One vacancy posting from one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vacancy {
    /// The portal or export the posting came from ("national-portal", "centre-almaty-2024").
    pub source: String,
    /// The posting's id at its source.
    pub source_id: String,
    pub url: Option<String>,
    /// The job title as written, at most [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    pub description: Option<Description>,
    pub employer: Employer,
    /// The region as the posting writes it ("Туркестанская область", "г. Алматы").
    pub region: Option<String>,
    /// The region it resolves to.
    pub region_code: Option<Region>,
    /// The settlement as the posting writes it.
    pub settlement: Option<String>,
    pub kato: Option<Kato>,
    /// How many places the posting named; a posting naming several becomes one record per place,
    /// each with the posting's `openings` (so a count of openings divides by this).
    pub location_count: u16,
    pub occupation: Option<IscoCode>,
    pub education: Option<Education>,
    pub experience_months: Option<u32>,
    pub wage: Option<Wage>,
    /// Positions to fill, when given.
    pub openings: Option<u32>,
    pub employment_type: Vec<EmploymentType>,
    pub posted: Date,
    pub valid_through: Option<Date>,
    pub filled: Option<Date>,
    pub closed: Option<Date>,
}

impl Vacancy {
    /// A posting with its required fields; everything else empty. The title is trimmed and cut to
    /// [`MAX_TITLE_CHARS`].
    pub fn new(source: &str, source_id: &str, title: &str, posted: Date) -> Result<Vacancy, VacancyError> {
        let (source, source_id, title) = (source.trim(), source_id.trim(), title.trim());
        for (value, name) in [(source, "source"), (source_id, "source id"), (title, "title")] {
            if value.is_empty() {
                return Err(VacancyError::Empty(name));
            }
        }
        let title = match title.char_indices().nth(MAX_TITLE_CHARS) {
            Some((cut, _)) => title[..cut].trim_end().to_string(),
            None => title.to_string(),
        };
        Ok(Vacancy {
            source: source.to_string(),
            source_id: source_id.to_string(),
            url: None,
            title,
            description: None,
            employer: Employer::default(),
            region: None,
            region_code: None,
            settlement: None,
            kato: None,
            location_count: 1,
            occupation: None,
            education: None,
            experience_months: None,
            wage: None,
            openings: None,
            employment_type: Vec::new(),
            posted,
            valid_through: None,
            filled: None,
            closed: None,
        })
    }

    /// The region code: the one set, else the KATO code's, else the region text's, else the
    /// settlement's.
    pub fn resolved_region(&self) -> Option<Region> {
        self.region_code
            .or_else(|| self.kato.as_ref().and_then(Kato::region))
            .or_else(|| self.region.as_deref().and_then(Region::resolve))
            .or_else(|| self.settlement.as_deref().and_then(Region::resolve))
    }

    /// What does not fit together: a valid-through, filled or closed date before the posting date;
    /// a KATO code outside the region.
    pub fn inconsistencies(&self) -> Vec<VacancyError> {
        let mut out = Vec::new();
        for (date, field) in
            [(self.valid_through, "valid-through date"), (self.filled, "filled date"), (self.closed, "closed date")]
        {
            if let Some(d) = date
                && d < self.posted
            {
                out.push(VacancyError::DateOrder { field, date: d, posted: self.posted });
            }
        }
        if let (Some(kato), Some(region)) = (&self.kato, self.region_code)
            && let Some(kr) = kato.region()
            && kr != region
        {
            out.push(VacancyError::KatoRegion {
                kato: kato.0.clone(),
                kato_region: kr.as_str(),
                region: region.as_str(),
            });
        }
        out
    }

    /// How many of the optional fields are filled (for choosing a cluster's representative).
    pub fn completeness(&self) -> usize {
        [
            self.url.is_some(),
            self.description.is_some(),
            self.employer.name.is_some(),
            self.employer.bin.is_some(),
            self.region.is_some(),
            self.region_code.is_some(),
            self.settlement.is_some(),
            self.kato.is_some(),
            self.occupation.is_some(),
            self.education.is_some(),
            self.experience_months.is_some(),
            self.wage.is_some(),
            self.openings.is_some(),
            !self.employment_type.is_empty(),
            self.valid_through.is_some(),
            self.filled.is_some(),
            self.closed.is_some(),
        ]
        .iter()
        .filter(|&&b| b)
        .count()
    }
}
