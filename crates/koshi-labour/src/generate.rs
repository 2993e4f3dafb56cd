//! A generator of **synthetic** vacancy postings shaped like Kazakhstan's, for scale tests of the
//! database, the coder and [`crate::dedup`].
//!
//! Nothing it produces is real. Employers are made up from syllables and numbers, and their BINs
//! begin `0000` (registered in "month 00", which no real BIN is) while keeping a valid check digit;
//! sources are `national-portal`, `private-portal` and `employment-centre` with ids and URLs under
//! `.example`. What is shaped like the country:
//!
//! * **Regions**: the 20 regions of the 2022 layout, weighted by population (rounded figures for
//!   the start of 2023, used only as weights), the cities of Astana and Almaty weighted up for
//!   their share of formal jobs; agricultural vacancies lean to the agrarian regions, mining and
//!   oil to the extractive ones (Atyrau, Mangystau, Karaganda, Ulytau, …).
//! * **Occupations**: seventy-one ISCO-08 unit groups that dominate vacancy lists (teachers,
//!   nurses, drivers, sales assistants, cleaners, welders, labourers, cooks, accountants, …) with
//!   the project's weights, each with job titles in Russian, Kazakh and English and rephrasings of
//!   them.
//! * **Seasonality**: a monthly profile per sector: construction and agriculture peak in spring and
//!   summer, schools in August, trade before the new year.
//! * **Wages**: a level per ISCO major group (tenge a month), times a regional level (Atyrau and
//!   Mangystau highest, Turkestan and Zhambyl lowest), with log-normal spread, rounded as postings
//!   round them; some ranges, some single amounts, some hourly, some none.
//! * **Duplicates**: a share of vacancies cross-posted to another source (posted up to three days
//!   later, the title sometimes rephrased or in the other language, the employer's BIN sometimes
//!   missing and its name written differently, the number of openings sometimes different), and a
//!   share renewed after they expired: within a week (the same vacancy) or a month or more later
//!   (a new vacancy, as [`crate::dedup`] counts it).
//!
//! The generator is an [`Iterator`]: a million records stream without being held. The same
//! [`GeneratorConfig`] (seed included) gives the same records: the random numbers are the
//! project's own xoshiro256** seeded by splitmix64, the same on every platform (the wages and the
//! spread of employers also pass through the platform's `exp`, `ln` and `powf`, which other
//! platforms may round differently in the last bit).

use std::collections::VecDeque;
use std::sync::OnceLock;

use serde::Serialize;

use crate::isco::Lang;
use crate::vacancy::{
    Bin, Currency, Date, Description, Education, EducationLevel, EmploymentType, IscoCode, PayPeriod, Region, Vacancy,
    Wage,
};

// ---------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------

/// splitmix64: one step from a state, for seeding and hashing.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The xoshiro256** generator: fast, small, good enough for synthetic data (not for secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut state = seed;
        let s = [splitmix64(&mut state), splitmix64(&mut state), splitmix64(&mut state), splitmix64(&mut state)];
        Rng { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in lo..=hi.
    pub fn between(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i32
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// An index drawn by cumulative weights.
    fn pick(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.uniform() * total;
        cumulative.partition_point(|&c| c <= x).min(cumulative.len().saturating_sub(1))
    }

    fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    weights
        .into_iter()
        .scan(0.0, |acc, w| {
            *acc += w.max(0.0);
            Some(*acc)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/// A region: population (thousands, rounded, start of 2023; a weight only), how much more
/// formal-job vacancy it has per head, its wage level against the country, and how much agrarian
/// and extractive work it has against the average.
struct RegionProfile {
    region: Region,
    population: f64,
    intensity: f64,
    wage: f64,
    agrarian: f64,
    extractive: f64,
}

const fn rp(
    region: Region,
    population: f64,
    intensity: f64,
    wage: f64,
    agrarian: f64,
    extractive: f64,
) -> RegionProfile {
    RegionProfile { region, population, intensity, wage, agrarian, extractive }
}

const REGION_PROFILES: [RegionProfile; 20] = [
    rp(Region::Abai, 608.0, 1.0, 0.85, 1.3, 1.0),
    rp(Region::Akmola, 787.0, 1.0, 0.88, 1.6, 0.8),
    rp(Region::Aktobe, 916.0, 1.0, 0.95, 1.0, 1.5),
    rp(Region::AlmatyRegion, 1497.0, 0.9, 0.85, 1.6, 0.3),
    rp(Region::Atyrau, 690.0, 1.1, 1.75, 0.4, 3.0),
    rp(Region::WestKazakhstan, 688.0, 1.0, 0.95, 1.2, 1.8),
    rp(Region::Zhambyl, 1212.0, 0.9, 0.75, 1.6, 0.8),
    rp(Region::Zhetysu, 697.0, 0.9, 0.75, 1.7, 0.3),
    rp(Region::Karaganda, 1134.0, 1.1, 1.0, 0.6, 2.0),
    rp(Region::Kostanay, 831.0, 1.0, 0.85, 1.8, 1.2),
    rp(Region::Kyzylorda, 829.0, 0.9, 0.85, 1.3, 1.5),
    rp(Region::Mangystau, 771.0, 1.1, 1.45, 0.3, 3.0),
    rp(Region::Pavlodar, 751.0, 1.0, 0.95, 1.0, 1.8),
    rp(Region::NorthKazakhstan, 536.0, 1.0, 0.8, 2.0, 0.3),
    rp(Region::Turkestan, 2111.0, 0.8, 0.72, 1.8, 0.5),
    rp(Region::Ulytau, 221.0, 1.1, 1.2, 0.6, 3.0),
    rp(Region::EastKazakhstan, 727.0, 1.0, 0.95, 1.1, 2.0),
    rp(Region::Astana, 1354.0, 1.6, 1.35, 0.05, 0.2),
    rp(Region::Almaty, 2162.0, 1.6, 1.3, 0.05, 0.2),
    rp(Region::Shymkent, 1222.0, 1.1, 0.8, 0.1, 0.3),
];

/// The kind of work, for seasonality, employers and terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Construction,
    Agriculture,
    Education,
    Health,
    Trade,
    Hospitality,
    Transport,
    Extractive,
    Public,
    General,
}

impl Sector {
    const ALL: [Sector; 10] = [
        Sector::Construction,
        Sector::Agriculture,
        Sector::Education,
        Sector::Health,
        Sector::Trade,
        Sector::Hospitality,
        Sector::Transport,
        Sector::Extractive,
        Sector::Public,
        Sector::General,
    ];

    /// Relative vacancy flow by month, January first (mean about 1).
    pub fn seasonality(self) -> [f64; 12] {
        match self {
            Sector::Construction => [0.45, 0.55, 0.9, 1.35, 1.55, 1.5, 1.4, 1.3, 1.1, 0.85, 0.6, 0.45],
            Sector::Agriculture => [0.3, 0.45, 1.1, 1.7, 1.8, 1.5, 1.35, 1.4, 1.25, 0.6, 0.3, 0.25],
            Sector::Education => [0.8, 0.75, 0.75, 0.7, 0.8, 0.9, 1.3, 2.1, 1.4, 0.8, 0.75, 0.65],
            Sector::Hospitality => [0.75, 0.8, 0.9, 1.0, 1.2, 1.35, 1.35, 1.2, 0.95, 0.85, 0.8, 0.85],
            Sector::Trade => [0.85, 0.85, 0.95, 0.95, 1.0, 1.0, 0.95, 1.0, 1.0, 1.05, 1.15, 1.25],
            _ => [0.8, 0.9, 1.05, 1.05, 1.05, 1.0, 0.95, 1.0, 1.1, 1.1, 1.05, 0.95],
        }
    }

    fn is_public(self) -> bool {
        matches!(self, Sector::Education | Sector::Health | Sector::Public)
    }

    fn index(self) -> usize {
        Sector::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// Occupations: code, weight (per mille of vacancies, the project's estimate), sector, and jobs.
/// A job is `ru ; kk ; en`, each a `|`-separated list of ways to write the title (the first the
/// plainest); jobs are separated by ` / `; `-` for no title in a language.
const OCCUPATIONS: &[(&str, f64, Sector, &str)] = &[
    (
        "2330",
        50.0,
        Sector::Education,
        "Учитель математики|Учитель математики (5-11 классы)|Педагог по математике ; Математика пәнінің мұғалімі|Математика мұғалімі ; Mathematics teacher \
         / Учитель русского языка и литературы|Учитель русского языка ; Орыс тілі мен әдебиеті мұғалімі ; - \
         / Учитель английского языка|Преподаватель английского языка в школу ; Ағылшын тілі мұғалімі ; English teacher \
         / Учитель казахского языка и литературы|Учитель казахского языка ; Қазақ тілі мен әдебиеті мұғалімі|Қазақ тілі мұғалімі ; - \
         / Учитель физики ; Физика пәнінің мұғалімі ; - \
         / Учитель химии и биологии ; Химия және биология мұғалімі ; -",
    ),
    (
        "2341",
        20.0,
        Sector::Education,
        "Учитель начальных классов|Учитель начальных классов (1-4 кл.) ; Бастауыш сынып мұғалімі ; Primary school teacher",
    ),
    (
        "2342",
        15.0,
        Sector::Education,
        "Воспитатель детского сада|Воспитатель|Воспитатель в детский сад ; Тәрбиеші|Балабақша тәрбиешісі ; Kindergarten teacher",
    ),
    ("2352", 4.0, Sector::Education, "Учитель-дефектолог|Дефектолог ; Дефектолог ; -"),
    (
        "2310",
        4.0,
        Sector::Education,
        "Преподаватель университета|Старший преподаватель кафедры ; Университет оқытушысы ; University lecturer",
    ),
    (
        "2320",
        5.0,
        Sector::Education,
        "Преподаватель колледжа|Преподаватель специальных дисциплин колледжа ; Колледж оқытушысы ; -",
    ),
    ("2634", 4.0, Sector::Education, "Педагог-психолог|Психолог в школу ; Психолог ; Psychologist"),
    ("2211", 12.0, Sector::Health, "Врач общей практики|Врач ВОП ; Жалпы тәжірибелік дәрігер ; General practitioner"),
    (
        "2212",
        8.0,
        Sector::Health,
        "Врач-педиатр|Педиатр ; Педиатр дәрігер ; - / Врач-хирург|Хирург ; Хирург дәрігер ; Surgeon / Врач акушер-гинеколог|Акушер-гинеколог ; Акушер-гинеколог дәрігер ; -",
    ),
    (
        "3221",
        15.0,
        Sector::Health,
        "Медицинская сестра|Медсестра|Медсестра процедурного кабинета ; Мейіргер|Медбике ; Nurse",
    ),
    ("2240", 5.0, Sector::Health, "Фельдшер|Фельдшер скорой помощи ; Фельдшер ; Paramedic"),
    ("2262", 4.0, Sector::Health, "Фармацевт|Провизор ; Фармацевт ; Pharmacist"),
    ("5321", 4.0, Sector::Health, "Санитарка|Младшая медицинская сестра|Санитар ; Санитар ; -"),
    (
        "5223",
        45.0,
        Sector::Trade,
        "Продавец-консультант|Продавец консультант в магазин одежды|Продавец консультант ; Сатушы-кеңесші|Сатушы ; Sales assistant \
         / Продавец продуктов|Продавец в продуктовый магазин ; Азық-түлік дүкеніне сатушы ; -",
    ),
    ("5230", 15.0, Sector::Trade, "Кассир|Кассир в супермаркет|Кассир торгового зала ; Кассир ; Cashier"),
    (
        "3322",
        12.0,
        Sector::Trade,
        "Торговый представитель|Торговый агент|Менеджер по продажам ; Сауда өкілі ; Sales representative",
    ),
    ("4321", 12.0, Sector::Trade, "Кладовщик|Кладовщик на склад ; Қоймашы ; Storekeeper"),
    ("9333", 15.0, Sector::Trade, "Грузчик|Грузчик на склад|Грузчик-комплектовщик ; Жүк тиеуші ; Loader"),
    ("1420", 4.0, Sector::Trade, "Директор магазина|Управляющий магазином ; Дүкен меңгерушісі ; Store manager"),
    ("9621", 6.0, Sector::Trade, "Курьер|Курьер-доставщик|Пеший курьер ; Курьер ; Courier"),
    ("5120", 20.0, Sector::Hospitality, "Повар|Повар горячего цеха|Повар в столовую ; Аспаз ; Cook"),
    ("5131", 12.0, Sector::Hospitality, "Официант|Официант в ресторан ; Даяшы ; Waiter"),
    (
        "9412",
        8.0,
        Sector::Hospitality,
        "Помощник повара|Кухонный работник|Посудомойщица ; Аспаздың көмекшісі ; Kitchen helper",
    ),
    ("7512", 5.0, Sector::Hospitality, "Пекарь|Пекарь-кондитер ; Наубайшы ; Baker"),
    ("5132", 3.0, Sector::Hospitality, "Бармен|Бармен-бариста ; Бармен ; Bartender"),
    ("7112", 12.0, Sector::Construction, "Каменщик|Каменщик на стройку ; Тас қалаушы ; Bricklayer"),
    ("7115", 8.0, Sector::Construction, "Плотник|Плотник-столяр ; Ағаш ұстасы ; Carpenter"),
    ("7114", 8.0, Sector::Construction, "Бетонщик|Арматурщик-бетонщик ; Бетоншы ; Concrete worker"),
    (
        "7212",
        25.0,
        Sector::Construction,
        "Электрогазосварщик|Сварщик|Электросварщик ; Дәнекерлеуші|Электргазбен дәнекерлеуші ; Welder",
    ),
    (
        "9313",
        18.0,
        Sector::Construction,
        "Разнорабочий|Подсобный рабочий|Разнорабочий на стройку ; Көмекші жұмысшы|Қара жұмысшы ; General labourer",
    ),
    (
        "7411",
        12.0,
        Sector::Construction,
        "Электрик|Электромонтажник|Электромонтер ; Электрик|Электрмонтер ; Electrician",
    ),
    ("7126", 8.0, Sector::Construction, "Сантехник|Слесарь-сантехник ; Сантехник ; Plumber"),
    ("7131", 5.0, Sector::Construction, "Маляр|Маляр-штукатур ; Сырлаушы ; Painter"),
    (
        "8342",
        6.0,
        Sector::Construction,
        "Машинист экскаватора|Экскаваторщик ; Экскаватор машинисі ; Excavator operator",
    ),
    ("3123", 6.0, Sector::Construction, "Прораб|Производитель работ ; Прораб ; Site foreman"),
    ("2142", 5.0, Sector::Construction, "Инженер-строитель|Инженер ПТО ; Құрылыс инженері ; Civil engineer"),
    (
        "9211",
        8.0,
        Sector::Agriculture,
        "Рабочий на поля|Сезонный рабочий в теплицу|Разнорабочий в поле ; Егіс алқабына жұмысшы ; Farm labourer",
    ),
    (
        "8341",
        10.0,
        Sector::Agriculture,
        "Тракторист|Тракторист-машинист|Механизатор ; Тракторшы|Механизатор ; Tractor driver",
    ),
    ("9212", 6.0, Sector::Agriculture, "Скотник|Рабочий по уходу за животными ; Мал бағушы ; Livestock worker"),
    ("6113", 3.0, Sector::Agriculture, "Садовник|Озеленитель ; Бағбан ; Gardener"),
    (
        "8322",
        30.0,
        Sector::Transport,
        "Водитель категории В|Водитель легкового автомобиля|Водитель такси ; Жеңіл көлік жүргізушісі ; Car driver",
    ),
    (
        "8332",
        25.0,
        Sector::Transport,
        "Водитель категории С|Водитель грузового автомобиля|Водитель самосвала ; Жүк көлігінің жүргізушісі ; Truck driver \
         / Водитель категории Е|Водитель фуры|Водитель-дальнобойщик ; Фура жүргізушісі ; Long-haul truck driver",
    ),
    ("8331", 6.0, Sector::Transport, "Водитель автобуса|Водитель категории D ; Автобус жүргізушісі ; Bus driver"),
    (
        "7231",
        10.0,
        Sector::Transport,
        "Автослесарь|Автомеханик|Слесарь по ремонту автомобилей ; Автослесарь ; Car mechanic",
    ),
    (
        "8344",
        4.0,
        Sector::Transport,
        "Водитель погрузчика|Оператор вилочного погрузчика ; Тиегіш жүргізушісі ; Forklift driver",
    ),
    ("8111", 6.0, Sector::Extractive, "Горнорабочий|Горнорабочий подземный|Проходчик ; Кенші ; Miner"),
    (
        "8113",
        4.0,
        Sector::Extractive,
        "Помощник бурильщика|Бурильщик|Помбур ; Бұрғылаушының көмекшісі ; Assistant driller",
    ),
    (
        "2146",
        3.0,
        Sector::Extractive,
        "Горный инженер|Инженер-технолог горного участка ; Тау-кен инженері ; Mining engineer",
    ),
    (
        "7233",
        6.0,
        Sector::Extractive,
        "Слесарь-ремонтник|Слесарь по ремонту оборудования ; Жабдықты жөндеуші слесарь ; Maintenance fitter",
    ),
    (
        "2411",
        20.0,
        Sector::General,
        "Бухгалтер|Главный бухгалтер|Бухгалтер по заработной плате ; Бухгалтер|Бас бухгалтер ; Accountant",
    ),
    ("4110", 5.0, Sector::General, "Делопроизводитель|Специалист по документообороту ; Іс жүргізуші ; Office clerk"),
    ("3341", 5.0, Sector::General, "Офис-менеджер ; Кеңсе менеджері ; Office manager"),
    (
        "4222",
        6.0,
        Sector::General,
        "Оператор call-центра|Оператор колл-центра ; Байланыс орталығының операторы ; Call centre operator",
    ),
    ("2512", 8.0, Sector::General, "Программист|Разработчик 1С|Программист 1С ; Бағдарламашы ; Software developer"),
    (
        "3512",
        4.0,
        Sector::General,
        "Специалист технической поддержки|Специалист техподдержки ; Техникалық қолдау маманы ; IT support specialist",
    ),
    ("2611", 3.0, Sector::General, "Юрист|Юрисконсульт ; Заңгер ; Lawyer"),
    ("2423", 3.0, Sector::General, "Менеджер по персоналу|HR-менеджер ; Персонал жөніндегі менеджер ; HR manager"),
    ("2631", 4.0, Sector::General, "Экономист|Экономист по планированию ; Экономист ; Economist"),
    ("2151", 3.0, Sector::General, "Инженер-энергетик|Инженер-электрик ; Энергетик инженер ; Electrical engineer"),
    ("1120", 2.0, Sector::General, "Директор|Генеральный директор ; Директор ; Managing director"),
    (
        "1221",
        3.0,
        Sector::General,
        "Руководитель отдела продаж|Коммерческий директор ; Сату бөлімінің басшысы ; Sales director",
    ),
    ("5414", 14.0, Sector::General, "Охранник|Сотрудник охраны|Охранник вахтовым методом ; Күзетші ; Security guard"),
    (
        "9112",
        22.0,
        Sector::General,
        "Уборщица|Уборщик служебных помещений|Уборщица в офис ; Тазалаушы|Еден жуушы ; Cleaner",
    ),
    ("9613", 6.0, Sector::General, "Дворник|Дворник-уборщик территории ; Аула сыпырушы ; Street sweeper"),
    ("5141", 3.0, Sector::General, "Парикмахер|Парикмахер-универсал ; Шаштараз ; Hairdresser"),
    ("5311", 4.0, Sector::Education, "Помощник воспитателя|Няня ; Тәрбиешінің көмекшісі|Бала күтуші ; Nanny"),
    (
        "5322",
        4.0,
        Sector::Health,
        "Социальный работник по уходу на дому|Сиделка ; Үйде күтім жасайтын әлеуметтік қызметкер ; Home care worker",
    ),
    ("8153", 5.0, Sector::General, "Швея|Швея-мотористка ; Тігінші ; Sewing machine operator"),
    (
        "8160",
        3.0,
        Sector::General,
        "Оператор линии розлива|Оператор производственной линии ; Өндірістік желі операторы ; Production line operator",
    ),
    (
        "0310",
        2.0,
        Sector::Public,
        "Военнослужащий по контракту|Военнослужащий ; Келісімшарт бойынша әскери қызметші ; Contract soldier",
    ),
    ("5411", 3.0, Sector::Public, "Пожарный|Пожарный-спасатель ; Өрт сөндіруші ; Firefighter"),
];

/// Wage levels by ISCO major group, tenge a month, for the average region (the project's round
/// figures for synthetic data, not statistics).
const WAGE_BY_MAJOR: [f64; 10] =
    [300_000.0, 550_000.0, 380_000.0, 300_000.0, 230_000.0, 210_000.0, 190_000.0, 330_000.0, 330_000.0, 170_000.0];

struct Job {
    /// Ways to write the title, by language: ru, kk, en.
    titles: [Vec<&'static str>; 3],
}

struct Occupation {
    code: IscoCode,
    weight: f64,
    sector: Sector,
    jobs: Vec<Job>,
}

struct Tables {
    occupations: Vec<Occupation>,
    /// Cumulative weights of occupations × months (index occupation × 12 + month).
    occupation_months: Vec<f64>,
    /// Cumulative region weights per sector.
    regions_by_sector: Vec<Vec<f64>>,
}

fn region_weight(p: &RegionProfile, sector: Sector) -> f64 {
    let base = p.population * p.intensity;
    match sector {
        Sector::Agriculture => base * p.agrarian,
        Sector::Extractive => base * p.extractive,
        _ => base,
    }
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let occupations: Vec<Occupation> = OCCUPATIONS
            .iter()
            .filter_map(|(code, weight, sector, spec)| {
                let jobs = spec
                    .split(" / ")
                    .map(|job| {
                        let mut titles: [Vec<&'static str>; 3] = [Vec::new(), Vec::new(), Vec::new()];
                        for (lang, part) in job.split(" ; ").enumerate().take(3) {
                            titles[lang] =
                                part.split('|').map(str::trim).filter(|t| !t.is_empty() && *t != "-").collect();
                        }
                        Job { titles }
                    })
                    .filter(|j| !j.titles[0].is_empty())
                    .collect::<Vec<_>>();
                Some(Occupation { code: IscoCode::parse(code).ok()?, weight: *weight, sector: *sector, jobs })
            })
            .collect();
        let occupation_months = cumulative(occupations.iter().flat_map(|o| {
            let s = o.sector.seasonality();
            let total: f64 = s.iter().sum();
            s.map(|m| o.weight * m / total)
        }));
        let regions_by_sector =
            Sector::ALL.iter().map(|&s| cumulative(REGION_PROFILES.iter().map(|p| region_weight(p, s)))).collect();
        Tables { occupations, occupation_months, regions_by_sector }
    })
}

/// The unit groups the generator draws from, with their shares of vacancies (summing to 1).
pub fn occupation_shares() -> Vec<(IscoCode, f64)> {
    let t = tables();
    let total: f64 = t.occupations.iter().map(|o| o.weight).sum();
    t.occupations.iter().map(|o| (o.code, o.weight / total)).collect()
}

/// Every title the generator writes for a unit group, with the group (for checks against the coder).
pub fn titles() -> Vec<(IscoCode, &'static str)> {
    tables()
        .occupations
        .iter()
        .flat_map(|o| o.jobs.iter().flat_map(move |j| j.titles.iter().flatten().map(move |t| (o.code, *t))))
        .collect()
}

/// The sector of a unit group the generator draws from.
pub fn sector_of(code: IscoCode) -> Option<Sector> {
    tables().occupations.iter().find(|o| o.code == code).map(|o| o.sector)
}

/// The expected share of original vacancies in each region, given the occupation mix.
pub fn expected_region_shares() -> Vec<(Region, f64)> {
    let t = tables();
    let total_w: f64 = t.occupations.iter().map(|o| o.weight).sum();
    let mut shares = [0.0f64; 20];
    for o in &t.occupations {
        let weights: Vec<f64> = REGION_PROFILES.iter().map(|p| region_weight(p, o.sector)).collect();
        let sum: f64 = weights.iter().sum();
        for (i, w) in weights.iter().enumerate() {
            shares[i] += o.weight / total_w * w / sum;
        }
    }
    REGION_PROFILES.iter().zip(shares).map(|(p, s)| (p.region, s)).collect()
}

// ---------------------------------------------------------------------------------------------
// Employers
// ---------------------------------------------------------------------------------------------

const NAME_STEMS: &[&str] = &[
    "Алтын",
    "Береке",
    "Нур",
    "Жулдыз",
    "Астык",
    "Дала",
    "Сункар",
    "Кайнар",
    "Арман",
    "Бастау",
    "Алатау",
    "Тениз",
    "Шыгыс",
    "Батыс",
    "Евразия",
    "Азия",
    "Мега",
    "Гранд",
    "Стандарт",
    "Эверест",
    "Каспий",
    "Тулпар",
    "Самал",
    "Мерей",
    "Ак Жол",
    "Байтак",
    "Атамекен",
    "Сарыарка",
    "Кокжиек",
    "Жибек",
    "Болашак",
    "Умай",
    "Талап",
    "Коктем",
    "Шанырак",
    "Кемел",
];

fn name_suffixes(sector: Sector) -> &'static [&'static str] {
    match sector {
        Sector::Construction => &["Строй", " Строй Сервис", "СтройИнвест", " Курылыс", " Монтаж"],
        Sector::Trade => &[" Маркет", " Трейд", " Торг", "Снаб", " Дистрибуция"],
        Sector::Hospitality => &[" Фуд", " Ресторан Групп", " Кейтеринг", " Сервис"],
        Sector::Transport => &[" Логистик", " Транс", " Авто", " ТрансСервис"],
        Sector::Agriculture => &[" Агро", " Астык", " Агро Холдинг", " Агрофирма"],
        Sector::Extractive => &[" Мунай Сервис", " Майнинг", " Энерго", " Геология", " Бурение"],
        _ => &[" Групп", " Сервис", " Консалтинг", " Технолоджи", " Партнерс", " Медиа"],
    }
}

const SURNAMES: &[&str] = &[
    "Ахметов",
    "Сериков",
    "Иванова",
    "Нурланова",
    "Жумабаев",
    "Ким",
    "Тлеубаев",
    "Абенова",
    "Касымов",
    "Оспанова",
    "Петренко",
    "Садыков",
    "Мухтарова",
    "Ермеков",
    "Бекова",
    "Исаев",
    "Кенжебаева",
    "Омаров",
];

struct EmployerDraw {
    name: String,
    bin: Bin,
}

/// A synthetic BIN: `0000` (no real registration month), then `4` (legal entity) or `6` and `0`,
/// then five digits, then the check digit.
fn synthetic_bin(mut h: u64, individual: bool) -> Bin {
    loop {
        let mut d = [0u8; 11];
        d[4] = if individual { 6 } else { 4 };
        for slot in d.iter_mut().skip(6) {
            *slot = (h % 10) as u8;
            h /= 10;
        }
        if let Some(check) = Bin::check_digit(&d) {
            let text: String = d.iter().chain(std::iter::once(&check)).map(|x| char::from(b'0' + x)).collect();
            if let Ok(bin) = Bin::parse(&text) {
                return bin;
            }
        }
        h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    }
}

fn employer(seed: u64, region: usize, sector: Sector, k: u64, occupation: &Occupation) -> EmployerDraw {
    let mut state = seed ^ ((region as u64) << 48) ^ ((sector.index() as u64) << 40) ^ k;
    let h = splitmix64(&mut state);
    let h2 = splitmix64(&mut state);
    let number = 1 + k;
    let name = match sector {
        Sector::Education if matches!(occupation.code.as_str(), "2342" | "5311") => {
            format!("ГККП «Ясли-сад №{number}»")
        }
        Sector::Education if matches!(occupation.code.as_str(), "2310") => {
            format!("НАО «Университет {}»", NAME_STEMS[(h % NAME_STEMS.len() as u64) as usize])
        }
        Sector::Education if matches!(occupation.code.as_str(), "2320") => format!("ГККП «Высший колледж №{number}»"),
        Sector::Education => format!("КГУ «Общеобразовательная школа №{number}»"),
        Sector::Health if h2.is_multiple_of(3) => format!("ГКП на ПХВ «Многопрофильная больница №{number}»"),
        Sector::Health => format!("ГКП на ПХВ «Городская поликлиника №{number}»"),
        Sector::Public => format!("ГУ «Служба №{number}»"),
        _ if h2.is_multiple_of(6) => format!("ИП «{}»", SURNAMES[(h % SURNAMES.len() as u64) as usize]),
        _ => {
            let stem = NAME_STEMS[(h % NAME_STEMS.len() as u64) as usize];
            let mut second = NAME_STEMS[((h >> 8) % NAME_STEMS.len() as u64) as usize];
            if second == stem {
                second = NAME_STEMS[((h >> 8) as usize + 1) % NAME_STEMS.len()];
            }
            let stem = format!("{stem} {second}");
            let suffixes = name_suffixes(sector);
            let suffix = suffixes[((h >> 20) % suffixes.len() as u64) as usize];
            let form = if h2 % 10 == 1 { "АО" } else { "ТОО" };
            format!("{form} «{stem}{suffix}»")
        }
    };
    let individual = name.starts_with("ИП");
    EmployerDraw { name, bin: synthetic_bin(h2, individual) }
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/// The sources of synthetic postings and their shares of original postings.
pub const SOURCES: [(&str, &str, f64); 3] =
    [("national-portal", "NP", 0.5), ("private-portal", "PP", 0.35), ("employment-centre", "EC", 0.15)];

/// What the generator makes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratorConfig {
    pub seed: u64,
    /// Postings are dated from 1 January of this year …
    pub first_year: u16,
    /// … over this many years.
    pub years: u16,
    /// The share of vacancies cross-posted to a second source.
    pub cross_post_share: f64,
    /// The share of vacancies renewed after they expired (not those filled).
    pub repost_share: f64,
    /// Of the renewals, the share that come a month or more after expiry: new vacancies.
    pub late_repost_share: f64,
    /// The share of titles in Kazakh, and in English (where the job has one).
    pub kazakh_share: f64,
    pub english_share: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            seed: 2024,
            first_year: 2024,
            years: 1,
            cross_post_share: 0.15,
            repost_share: 0.08,
            late_repost_share: 0.25,
            kazakh_share: 0.15,
            english_share: 0.03,
        }
    }
}

/// How a synthetic posting came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The first posting of a vacancy.
    Original,
    /// The same vacancy on another source.
    CrossPost,
    /// The same vacancy renewed within a week of expiring.
    Repost,
    /// A job advertised again a month or more after its posting expired: a new vacancy.
    Readvertised,
}

/// A synthetic posting with the truth about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Synthetic {
    pub vacancy: Vacancy,
    /// The vacancy the posting belongs to: postings with the same id are duplicates.
    pub vacancy_id: u64,
    pub origin: Origin,
    /// The language the title is written in.
    pub language: Lang,
}

/// The stream of synthetic postings; see the module documentation.
#[derive(Debug, Clone)]
pub struct Generator {
    config: GeneratorConfig,
    rng: Rng,
    next_vacancy: u64,
    next_posting: u64,
    pending: VecDeque<Synthetic>,
}

/// A generator of synthetic postings with a configuration.
pub fn generate(config: GeneratorConfig) -> Generator {
    Generator { rng: Rng::new(config.seed), config, next_vacancy: 0, next_posting: 0, pending: VecDeque::new() }
}

const LANGS: [Lang; 3] = [Lang::Ru, Lang::Kk, Lang::En];

#[derive(Clone, Copy)]
struct Draw {
    job: usize,
    lang: usize,
    variant: usize,
}

fn capitalise_town(folded: &str) -> String {
    folded
        .split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn round_to(x: f64, step: f64) -> f64 {
    ((x / step).round() * step).max(step)
}

impl Generator {
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    fn source_id(&mut self, source: usize) -> String {
        self.next_posting += 1;
        format!("{}-{:09}", SOURCES[source].1, self.next_posting)
    }

    fn title(&self, o: &Occupation, d: &Draw) -> &'static str {
        let titles = &o.jobs[d.job].titles;
        titles[d.lang].get(d.variant).or_else(|| titles[0].first()).copied().unwrap_or("")
    }

    /// A rephrasing of the title: another way of writing it in the same language, or the title in
    /// the other language.
    fn rephrase(&mut self, o: &Occupation, d: &Draw) -> Draw {
        let titles = &o.jobs[d.job].titles;
        let r = self.rng.uniform();
        if r < 0.5 {
            return *d;
        }
        if r < 0.85 && titles[d.lang].len() > 1 {
            let mut v = self.rng.below(titles[d.lang].len() - 1);
            if v >= d.variant {
                v += 1;
            }
            return Draw { variant: v, ..*d };
        }
        let other = if d.lang == 0 { 1 } else { 0 };
        if !titles[other].is_empty() {
            return Draw { lang: other, variant: self.rng.below(titles[other].len()), ..*d };
        }
        *d
    }

    fn original(&mut self) -> Synthetic {
        let t = tables();
        let cell = self.rng.pick(&t.occupation_months);
        let (oi, month) = (cell / 12, (cell % 12) as u8 + 1);
        let o = &t.occupations[oi];
        let ri = self.rng.pick(&t.regions_by_sector[o.sector.index()]);
        let profile = &REGION_PROFILES[ri];
        let region = profile.region;
        let year = self.config.first_year + self.rng.below(self.config.years.max(1) as usize) as u16;
        let days = match month {
            2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let day = 1 + self.rng.below(days) as u8;
        let posted = Date::new(year, month, day).unwrap_or_else(|_| Date::new(2024, 1, 1).expect("a valid date"));

        let job = self.rng.below(o.jobs.len());
        let titles = &o.jobs[job].titles;
        let r = self.rng.uniform();
        let lang = if r < self.config.english_share && !titles[2].is_empty() {
            2
        } else if r < self.config.english_share + self.config.kazakh_share && !titles[1].is_empty() {
            1
        } else {
            0
        };
        // The plainest title most often.
        let variant = if self.rng.chance(0.6) { 0 } else { self.rng.below(titles[lang].len()) };
        let draw = Draw { job, lang, variant };
        let title = self.title(o, &draw);

        let r = self.rng.uniform() * SOURCES.iter().map(|s| s.2).sum::<f64>();
        let source = if r < SOURCES[0].2 {
            0
        } else if r < SOURCES[0].2 + SOURCES[1].2 {
            1
        } else {
            2
        };
        let source_id = self.source_id(source);
        let vacancy_id = self.next_vacancy;
        self.next_vacancy += 1;
        let mut v = Vacancy::new(SOURCES[source].0, &source_id, title, posted).expect("generated fields are not empty");

        // Employer: public bodies for schools and clinics, firms otherwise; big ones post more.
        let n_employers = if o.sector.is_public() { profile.population / 4.0 } else { profile.population * 2.0 } as u64;
        let k = (n_employers as f64 * self.rng.uniform().powf(1.3)) as u64;
        let e = employer(self.config.seed, ri, o.sector, k, o);
        v.employer.name = Some(e.name);
        v.employer.bin = Some(e.bin);

        // Place.
        let towns: Vec<&str> = region.towns().collect();
        let town =
            if region.is_city() || self.rng.chance(0.65) { towns[0] } else { towns[self.rng.below(towns.len())] };
        let town = capitalise_town(town);
        v.region = Some(match (region.is_city(), self.rng.below(3)) {
            (true, 0) => format!("г. {}", region.name_ru()),
            (true, 1) => region.name_ru().to_string(),
            (true, _) => format!("{} қ.", region.name_kk()),
            (false, 0) => region.name_ru().to_string(),
            (false, 1) => region.name_ru().replace("область", "обл."),
            (false, _) => region.name_kk().to_string(),
        });
        v.region_code = Some(region);
        v.settlement = Some(if region.is_city() { region.name_ru().to_string() } else { format!("г. {town}") });
        if source != 1 {
            v.occupation = Some(o.code);
        }
        if source != 2 {
            v.url = Some(format!("https://{}.example/vacancy/{source_id}", SOURCES[source].0));
        }

        // Terms.
        let major = o.code.major() as usize;
        let sector_factor = if o.sector == Sector::Extractive { 1.4 } else { 1.0 };
        let monthly = WAGE_BY_MAJOR[major] * sector_factor * profile.wage.powf(0.8) * (0.22 * self.rng.normal()).exp();
        let hourly = matches!(o.sector, Sector::Trade | Sector::Hospitality | Sector::General) && self.rng.chance(0.05);
        let r = self.rng.uniform();
        v.wage = if r < 0.15 {
            None
        } else if hourly {
            let per_hour = round_to(monthly / crate::vacancy::HOURS_PER_MONTH, 50.0);
            Wage::new(Some(per_hour), Some(per_hour), Some(Currency::KZT), Some(PayPeriod::Hour)).ok()
        } else if r < 0.55 {
            let lo = round_to(monthly, 5_000.0);
            Wage::new(Some(lo), Some(lo), Some(Currency::KZT), Some(PayPeriod::Month)).ok()
        } else {
            let lo = round_to(monthly * 0.9, 5_000.0);
            let hi = round_to(lo * (1.1 + 0.4 * self.rng.uniform()), 5_000.0);
            Wage::new(Some(lo), Some(hi.max(lo)), Some(Currency::KZT), Some(PayPeriod::Month)).ok()
        };
        v.openings = Some(if self.rng.chance(0.8) { 1 } else { 2 + self.rng.below(4) as u32 });
        v.employment_type = vec![match o.sector {
            Sector::Extractive if self.rng.chance(0.6) => EmploymentType::Rotation,
            Sector::Agriculture if self.rng.chance(0.4) => EmploymentType::Temporary,
            _ if hourly => EmploymentType::PartTime,
            _ if self.rng.chance(0.06) => EmploymentType::PartTime,
            _ => EmploymentType::FullTime,
        }];
        let level = match major {
            1 | 2 => EducationLevel::Higher,
            3 => EducationLevel::Vocational,
            4 | 5 => {
                if self.rng.chance(0.5) {
                    EducationLevel::Vocational
                } else {
                    EducationLevel::Secondary
                }
            }
            _ => {
                if self.rng.chance(0.5) {
                    EducationLevel::Secondary
                } else {
                    EducationLevel::None
                }
            }
        };
        let text = match level {
            EducationLevel::Higher => "Высшее",
            EducationLevel::Vocational => "Техническое и профессиональное",
            EducationLevel::Secondary => "Среднее",
            _ => "Не требуется",
        };
        v.education = Some(Education { level: Some(level), text: text.to_string() });
        v.experience_months = Some(*self.rng.choose(&[0, 0, 6, 12, 12, 24, 36, 60]));
        if self.rng.chance(0.3) {
            let description =
                format!("{title}. Официальное трудоустройство, полный социальный пакет. Место работы: {town}.");
            v.description = Some(Description::new(&description).0);
        }
        v.valid_through = match self.rng.below(20) {
            0..=10 => posted.add_days(30),
            11..=14 => posted.add_days(14),
            15..=17 => posted.add_days(60),
            _ => None,
        };
        let filled = self.rng.chance(0.3);
        if filled {
            let f = posted.add_days(self.rng.between(5, 40));
            v.filled = f.filter(|f| v.valid_through.is_none_or(|vt| *f <= vt));
        } else if self.rng.chance(0.25) {
            v.closed = v.valid_through;
        }

        let original = Synthetic { vacancy: v, vacancy_id, origin: Origin::Original, language: LANGS[lang] };
        if self.rng.chance(self.config.cross_post_share) {
            let copy = self.cross_post(&original, source, o, &draw);
            self.pending.push_back(copy);
        }
        if original.vacancy.filled.is_none() && self.rng.chance(self.config.repost_share) {
            let copy = self.repost(&original, o, &draw);
            self.pending.push_back(copy);
        }
        original
    }

    fn cross_post(&mut self, original: &Synthetic, source: usize, o: &Occupation, draw: &Draw) -> Synthetic {
        let target = (source + 1 + self.rng.below(SOURCES.len() - 1)) % SOURCES.len();
        let o_v = &original.vacancy;
        let d = self.rephrase(o, draw);
        let title = self.title(o, &d);
        let posted = o_v.posted.add_days(self.rng.between(0, 3)).unwrap_or(o_v.posted);
        let id = self.source_id(target);
        let mut v = Vacancy::new(SOURCES[target].0, &id, title, posted).expect("generated fields are not empty");
        v.employer = o_v.employer.clone();
        if target == 1 {
            // The private portal: often no BIN, the name in another form.
            if self.rng.chance(0.5) {
                v.employer.bin = None;
            }
            if let Some(name) = &o_v.employer.name
                && self.rng.chance(0.3)
                && let Some((form, rest)) = name.split_once(' ')
            {
                v.employer.name = Some(format!("{} {form}", rest.trim_matches(['«', '»'])));
            }
        }
        let region = o_v.region_code.unwrap_or(Region::Almaty);
        v.region = Some(region.name_ru().to_string());
        v.region_code = o_v.region_code;
        v.settlement = o_v.settlement.clone();
        if target != 1 {
            v.occupation = o_v.occupation.or(Some(o.code));
            v.url = (target == 0).then(|| format!("https://{}.example/vacancy/{id}", SOURCES[target].0));
        } else {
            v.url = Some(format!("https://{}.example/vacancy/{id}", SOURCES[target].0));
        }
        v.wage = if self.rng.chance(0.85) { o_v.wage.clone() } else { None };
        v.openings = match self.rng.below(20) {
            0..=13 => o_v.openings,
            14..=16 => o_v.openings.map(|n| n + 1 + self.rng.below(3) as u32),
            _ => None,
        };
        v.employment_type = o_v.employment_type.clone();
        v.education = o_v.education.clone();
        v.experience_months = o_v.experience_months;
        v.valid_through = posted.add_days(30);
        Synthetic { vacancy: v, vacancy_id: original.vacancy_id, origin: Origin::CrossPost, language: LANGS[d.lang] }
    }

    fn repost(&mut self, original: &Synthetic, o: &Occupation, draw: &Draw) -> Synthetic {
        let o_v = &original.vacancy;
        let expiry = o_v.valid_through.or_else(|| o_v.posted.add_days(30)).unwrap_or(o_v.posted);
        let late = self.rng.chance(self.config.late_repost_share);
        let gap = if late { self.rng.between(30, 90) } else { self.rng.between(1, 7) };
        let posted = expiry.add_days(gap).unwrap_or(expiry);
        let d = if self.rng.chance(0.8) { *draw } else { self.rephrase(o, draw) };
        let title = self.title(o, &d);
        let source = SOURCES.iter().position(|s| s.0 == o_v.source).unwrap_or(0);
        let id = self.source_id(source);
        let mut v = o_v.clone();
        v.source_id = id;
        v.title = title.to_string();
        v.posted = posted;
        v.valid_through = posted.add_days(30);
        v.filled = None;
        v.closed = None;
        if v.url.is_some() {
            v.url = Some(format!("https://{}.example/vacancy/{}", SOURCES[source].0, v.source_id));
        }
        let (vacancy_id, origin) = if late {
            let id = self.next_vacancy;
            self.next_vacancy += 1;
            (id, Origin::Readvertised)
        } else {
            (original.vacancy_id, Origin::Repost)
        };
        Synthetic { vacancy: v, vacancy_id, origin, language: LANGS[d.lang] }
    }
}

impl Iterator for Generator {
    type Item = Synthetic;

    fn next(&mut self) -> Option<Synthetic> {
        Some(match self.pending.pop_front() {
            Some(s) => s,
            None => self.original(),
        })
    }
}
