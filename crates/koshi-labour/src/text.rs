//! Normalisation of job titles: the same steps for the text being coded and for the lexicon.
//!
//! Lower case, `ё` as `е`, look-alike Latin letters inside Cyrillic words (and the reverse) mended,
//! punctuation and hyphens as spaces, a few written forms kept as words (`C++`, `C#`, `.NET`, `1С`,
//! `R&D`), abbreviations expanded (`зав.`, `гл.`, `mgr`), driving-licence categories as words
//! (`категории С` → `catc`), words that say nothing about the occupation dropped (prepositions,
//! "срочно", "вахта", cities, "urgent", "full time"), and each word reduced to a stem: a light
//! suffix stripper for Russian, another for Kazakh, plurals for English.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::isco::Lang;

/// How much a word tells about the occupation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The occupation itself: "сварщик", "teacher", "математики".
    Content,
    /// Seniority and rank: "старший", "главный", "senior", "deputy". Barely changes the unit group.
    Minor,
    /// The place of work: "в кафе", "на склад", "hotel". Helps a phrase, but a title is not
    /// unexplained for lack of it.
    Context,
}

impl Kind {
    pub(crate) fn factor(self) -> f64 {
        match self {
            Kind::Content => 1.0,
            Kind::Minor => 0.25,
            Kind::Context => 0.4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub stem: String,
    pub kind: Kind,
}

const KAZAKH_LETTERS: &[char] =
    &['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і', 'Ә', 'Ғ', 'Қ', 'Ң', 'Ө', 'Ұ', 'Ү', 'Һ', 'І'];

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
}

/// The language of a job title by its letters: Kazakh if it has a letter only Kazakh uses,
/// Russian if it is mostly Cyrillic, English otherwise.
pub fn detect_language(text: &str) -> Lang {
    if text.chars().any(|c| KAZAKH_LETTERS.contains(&c)) {
        return Lang::Kk;
    }
    let cyr = text.chars().filter(|&c| is_cyrillic(c)).count();
    let lat = text.chars().filter(|&c| is_latin(c)).count();
    if cyr > 0 && cyr >= lat { Lang::Ru } else { Lang::En }
}

/// Written forms with punctuation that name something, kept as one word.
const SPECIAL: &[(&str, &str)] =
    &[("c++", " cpp "), ("c#", " csharp "), (".net", " dotnet "), ("r&d", " rnd "), ("f&b", " fnb "), ("1с", " 1c ")];

fn replace_special(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    'outer: while i < chars.len() {
        for (pattern, replacement) in SPECIAL {
            let p: Vec<char> = pattern.chars().collect();
            if lower.len() >= i + p.len() && lower[i..i + p.len()] == p[..] {
                out.push_str(replacement);
                i += p.len();
                continue 'outer;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

const LOOKALIKES_LATIN: &str = "aceopxykmthb";
const LOOKALIKES_CYRILLIC: &str = "асеорхукмтнв";

fn lookalikes() -> impl Iterator<Item = (char, char)> {
    LOOKALIKES_LATIN.chars().zip(LOOKALIKES_CYRILLIC.chars())
}

/// Pairs written `from=to`.
fn pairs(list: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    list.split_whitespace().filter_map(|p| p.split_once('='))
}

/// A word written with both alphabets ("Boдитель") is mended towards the alphabet most of its
/// letters use.
fn mend_mixed(word: &str) -> String {
    let cyr = word.chars().filter(|&c| is_cyrillic(c)).count();
    let lat = word.chars().filter(|&c| is_latin(c)).count();
    if cyr == 0 || lat == 0 {
        return word.to_string();
    }
    word.chars()
        .map(|c| {
            if cyr >= lat {
                lookalikes().find(|(l, _)| *l == c).map_or(c, |(_, k)| k)
            } else {
                lookalikes().find(|(_, k)| *k == c).map_or(c, |(l, _)| l)
            }
        })
        .collect()
}

const STOPWORDS: &str = "\
в во на по и или с со для к ко от из за до при а не о об у как что это без под над же \
the of and or in at for to a an with on by from as per other related elsewhere classified excluding \
except nec \
және бойынша жөніндегі үшін мен пен бен";

/// Words of vacancy notices that say nothing about the occupation.
const NOISE: &str = "\
срочно срочная срочный требуется требуются нужен нужна нужны ищем вакансия вакансии работа работу \
подработка вахта вахтой вахтовый вахтовым вахтовая вахтовой методом метод опыт опыта опытом обучение \
обучением обучаем график графиком ночной ночная ночь дневной дневная день полный полная неполный \
неполная частичная частичной занятость удаленно удаленная удаленный гибкий г гор город тенге тг тыс \
зп оплата оплатой зарплата зарплатой ежедневная ежедневно еженедельная еженедельно выплаты выплата \
официальное официально трудоустройство трудоустройством соцпакет высокая высокой стабильная стажер \
стажерка стажировка ученик ученица практикант разряд разряда разрядов тоо ао ип ооо казахстан рк кз \
жильем проживанием питанием предоставляется мужчина женщина девушка парень студент студентов \
пенсионер выходные подбор \
алматы алма ата астана астане нур султан шымкент шымкенте караганда караганде актобе атырау актау \
павлодар павлодаре семей костанай костанае кызылорда кызылорде уральск уральске тараз таразе \
петропавловск туркестан талдыкорган кокшетау экибастуз жезказган темиртау балхаш жанаозен аксай \
кульсары тенгиз кашаган карачаганак \
urgent urgently hiring hire needed wanted required require vacancy vacancies job jobs position \
opening full part time remote hybrid shift night day days rotation rotational fifo experience \
experienced immediate immediately start contract temporary temp permanent seasonal trainee intern \
internship apprentice graduate entry level based kazakhstan llp jsc ltd inc salary kzt usd month \
hour week weekly daily new our we are is looking join plus bonus benefits accommodation local expat \
only almaty astana shymkent karaganda aktobe atyrau aktau pavlodar kostanay uralsk taraz tengiz \
kashagan karachaganak nur sultan \
шұғыл қажет керек талап етіледі жұмыс жұмысқа";

/// Seniority and rank.
const MINOR: &str = "\
старший старшая ведущий ведущая главный главная младший младшая заместитель сменный смены смена \
senior junior lead leading principal middle mid deputy chief бас аға";

/// Places of work.
const CONTEXT: &str = "\
кафе ресторан магазин склад офис производство стройка школа детский сад отель гостиница банк \
больница клиника аптека компания организация предприятие цех завод фабрика месторождение рудник \
шахта карьер ферма супермаркет салон автосервис сто столовая кухня торговый центр тц бутик автомойка \
кофейня пекарня бар поликлиника вуз университет колледж гимназия лицей садик авто автомобиль \
межгород трасса объект restaurant cafe coffee hotel store shop warehouse office factory plant site \
mine company bank hospital clinic pharmacy school kindergarten university college farm supermarket \
salon kitchen field project oil gas oilfield mall centre international";

const ABBREVIATIONS: &str = "\
зав=заведующий нач=начальник гл=главный зам=заместитель инж=инженер ст=старший мл=младший \
спец=специалист рук=руководитель пом=помощник мед=медицинский бух=бухгалтер сотр=сотрудник \
mgr=manager eng=engineer engr=engineer asst=assistant dev=developer sr=senior snr=senior jr=junior \
jnr=junior admin=administrator tech=technician rep=representative exec=executive coord=coordinator \
supv=supervisor";

/// English spellings read as one.
const SPELLINGS: &str = "\
laborer=labourer labor=labour center=centre jeweler=jeweller counselor=counsellor \
pediatrician=paediatrician gynecologist=gynaecologist anesthesiologist=anaesthesiologist \
anesthetist=anaesthetist orthopedic=orthopaedic organization=organisation organizer=organiser \
theater=theatre fiber=fibre mold=mould molder=moulder galvanizer=galvaniser vulcanizer=vulcaniser \
catalog=catalogue draftsperson=draughtsman esthetician=aesthetician specialized=specialised";

const CATEGORY_WORDS: &str = "\
кат категория категории категорий категориями category categories cat";

/// A driving-licence category written after "категории" or a driver, as `catX`.
fn licence_category(word: &str) -> Option<String> {
    let latin: String = word
        .chars()
        .map(|c| match c {
            'а' => 'a',
            'в' => 'b',
            'с' => 'c',
            'д' => 'd',
            'е' => 'e',
            c => c,
        })
        .collect();
    matches!(latin.as_str(), "a" | "b" | "c" | "d" | "e" | "be" | "ce" | "de" | "c1" | "d1" | "c1e" | "d1e")
        .then(|| format!("cat{latin}"))
}

/// Licence categories, heaviest vehicle first.
const CATEGORY_RANK: &str = "\
catce catc1e catc catc1 catde catd1e catd catd1 cate catbe catb cata";

const RU_ENDINGS: &str = "\
иями ями ами ого его ому ему ыми ими ией ой ей ий ый ая яя ое ее ые ие ии ия ов ев ам ям ах ях ых их \
ым им ом ем ую юю ью а я о е и ы у ю ь й";

const KK_SUFFIXES: &str = "\
лары лері дары дері тары тері лар лер дар дер тар тер ның нің дың дің тың тің сы сі ы і";

const MIN_STEM: usize = 3;

fn strip_once(word: &str, endings: &str) -> Option<String> {
    let len = word.chars().count();
    endings.split_whitespace().find_map(|e| {
        let el = e.chars().count();
        (len >= el + MIN_STEM && word.ends_with(e)).then(|| word.chars().take(len - el).collect())
    })
}

/// Russian: one inflectional ending off, then a fleeting vowel closed up (продавец/продавца,
/// рынок/рынка), so the forms of a noun share a stem.
pub(crate) fn stem_ru(word: &str) -> String {
    let mut stem = strip_once(word, RU_ENDINGS).unwrap_or_else(|| word.to_string());
    let len = stem.chars().count();
    for (tail, short, min) in [("ец", "ц", 4), ("ок", "к", 5), ("ек", "к", 5)] {
        if len >= min && stem.ends_with(tail) {
            stem.truncate(stem.len() - tail.len());
            stem.push_str(short);
            break;
        }
    }
    stem
}

/// Kazakh: plural, genitive and possessive suffixes off, repeatedly (жүргізушілері → жүргізуш).
pub(crate) fn stem_kk(word: &str) -> String {
    let mut stem = word.to_string();
    while let Some(shorter) = strip_once(&stem, KK_SUFFIXES) {
        stem = shorter;
    }
    stem
}

/// English: plurals off and a few spellings unified.
pub(crate) fn stem_en(word: &str) -> String {
    let len = word.len();
    let stem = if len > 4 && word.ends_with("ies") {
        format!("{}y", &word[..len - 3])
    } else if len > 4 && ["ches", "shes", "xes", "sses"].iter().any(|e| word.ends_with(e)) {
        word[..len - 2].to_string()
    } else if len > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..len - 1].to_string()
    } else {
        word.to_string()
    };
    pairs(SPELLINGS).find(|(from, _)| *from == stem).map_or(stem, |(_, to)| to.to_string())
}

/// The stem of one lower-case word, by its alphabet.
pub(crate) fn stem(word: &str) -> String {
    if word.chars().any(|c| KAZAKH_LETTERS.contains(&c)) {
        stem_kk(word)
    } else if word.chars().any(is_cyrillic) {
        stem_ru(word)
    } else if word.chars().all(|c| c.is_ascii_lowercase()) {
        stem_en(word)
    } else {
        word.to_string()
    }
}

struct Tables {
    stop: HashSet<&'static str>,
    noise: HashSet<&'static str>,
    minor: HashSet<String>,
    context: HashSet<String>,
    abbreviations: HashMap<&'static str, &'static str>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        stop: STOPWORDS.split_whitespace().collect(),
        noise: NOISE.split_whitespace().collect(),
        minor: MINOR.split_whitespace().map(stem).collect(),
        context: CONTEXT.split_whitespace().map(stem).collect(),
        abbreviations: pairs(ABBREVIATIONS).collect(),
    })
}

fn lower(word: &str) -> String {
    word.to_lowercase().replace('ё', "е")
}

fn is_driver(stem: &str) -> bool {
    matches!(stem, "водител" | "driver" | "жүргізуш")
}

/// The words of a job title, normalised and stemmed, with what each says.
pub(crate) fn analyse(text: &str) -> Vec<Word> {
    let t = tables();
    let has_lower = text.chars().any(|c| c.is_lowercase());
    let prepared = replace_special(text);
    let mut words: Vec<Word> = Vec::new();
    let mut after_category_word = false;
    for raw in prepared.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut word = mend_mixed(&lower(raw));
        if word.chars().all(|c| c.is_ascii_digit()) {
            after_category_word = false;
            continue;
        }
        if CATEGORY_WORDS.split_whitespace().any(|c| c == word) {
            after_category_word = true;
            continue;
        }
        let upper = has_lower && raw.chars().all(|c| !c.is_lowercase());
        let after_driver = words.last().is_some_and(|w| is_driver(&w.stem) || w.stem.starts_with("cat"));
        if (after_category_word || (upper && after_driver))
            && let Some(category) = licence_category(&word)
        {
            words.push(Word { stem: category, kind: Kind::Content });
            continue;
        }
        after_category_word = false;
        // An abbreviation in capitals inside a mixed-case title is a word, not a preposition.
        let abbreviation = upper && raw.chars().count() <= 4 && raw.chars().any(is_cyrillic);
        if abbreviation && word == "по" {
            word = "software".to_string();
        }
        if let Some(full) = t.abbreviations.get(word.as_str()) {
            word = (*full).to_string();
        }
        if t.noise.contains(word.as_str()) || (!abbreviation && t.stop.contains(word.as_str())) {
            continue;
        }
        if word.chars().count() < 2 {
            continue;
        }
        let stem = stem(&word);
        let kind = if t.minor.contains(&stem) {
            Kind::Minor
        } else if t.context.contains(&stem) {
            Kind::Context
        } else {
            Kind::Content
        };
        words.push(Word { stem, kind });
    }
    // Several licence categories: the occupation follows the heaviest vehicle, so keep one.
    if let Some(keep) = CATEGORY_RANK.split_whitespace().find(|c| words.iter().any(|w| w.stem == *c)) {
        words.retain(|w| !w.stem.starts_with("cat") || w.stem == keep);
        words.dedup();
    }
    words
}

/// The normalised stems of a text, as the coder sees them (for explanations and tests).
pub fn stems(text: &str) -> Vec<String> {
    analyse(text).into_iter().map(|w| w.stem).collect()
}

pub(crate) fn is_cyrillic_word(word: &str) -> bool {
    word.chars().any(is_cyrillic)
}
