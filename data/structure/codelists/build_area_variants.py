"""Regenerates area_variants.csv from the source files in ../shared/data and the
hand-made lists below. Run from the repository root:
    python3 data/structure/codelists/build_area_variants.py
countries.csv must exist (see build_countries.py). One row per distinct spelling;
`origin` is the first origin (in ORDER) that uses it."""
import csv, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
SHARED = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'data'))

countries = list(csv.DictReader(open(os.path.join(HERE, 'countries.csv'), encoding='utf-8')))
by_m49 = {int(c['m49']): c['alpha3'] for c in countries}
codes = {c['alpha3'] for c in countries}
by_name = {c['name_en'].casefold(): c['alpha3'] for c in countries}

# UN spellings that differ from the iso-codes `name`
UN_NAMES = {
    'Bolivia (Plurinational State of)': 'BOL',
    'British Virgin Islands': 'VGB',
    'Channel Islands': 'CHI',
    'China, Hong Kong SAR': 'HKG',
    'China, Macao SAR': 'MAC',
    'China, Taiwan Province of China': 'TWN',
    "Dem. People's Republic of Korea": 'PRK',
    'Democratic Republic of the Congo': 'COD',
    'Holy See': 'VAT',
    'Iran (Islamic Republic of)': 'IRN',
    'Kosovo (under UNSC res. 1244)': 'XKX',
    'Micronesia (Fed. States of)': 'FSM',
    'Republic of Korea': 'KOR',
    'Republic of Moldova': 'MDA',
    'Saint Helena': 'SHN',
    'State of Palestine': 'PSE',
    'Turkey': 'TUR',
    'United Republic of Tanzania': 'TZA',
    'United States of America': 'USA',
    'United States Virgin Islands': 'VIR',
    'Venezuela (Bolivarian Republic of)': 'VEN',
    'Wallis and Futuna Islands': 'WLF',
}
UN_AGGREGATES_2019 = {'Caribbean', 'Melanesia', 'Micronesia', 'Polynesia', 'South America'}

EN_COMMON = {
    'RUS': ['Russia', 'Russian Federation'], 'CHN': ['China', "People's Republic of China", 'PRC', 'Mainland China'],
    'KGZ': ['Kyrgyzstan', 'Kyrgyz Republic', 'Kirghizia'], 'BLR': ['Belarus', 'Byelorussia'],
    'KAZ': ['Kazakhstan'], 'UZB': ['Uzbekistan'], 'TJK': ['Tajikistan'], 'TKM': ['Turkmenistan'],
    'ARM': ['Armenia'], 'AZE': ['Azerbaijan'], 'GEO': ['Georgia'], 'MDA': ['Moldova'], 'UKR': ['Ukraine'],
    'USA': ['USA', 'US', 'U.S.', 'U.S.A.', 'United States', 'America'],
    'GBR': ['United Kingdom', 'UK', 'U.K.', 'Great Britain', 'Britain'],
    'TUR': ['Turkey', 'Türkiye', 'Turkiye'], 'KOR': ['South Korea', 'Korea, South', 'Korea'],
    'PRK': ['North Korea', 'Korea, North', 'DPRK'], 'IRN': ['Iran'], 'VNM': ['Vietnam', 'Viet Nam'],
    'SYR': ['Syria'], 'LAO': ['Laos', 'Lao PDR'], 'TZA': ['Tanzania'], 'BOL': ['Bolivia'],
    'VEN': ['Venezuela'], 'CZE': ['Czech Republic', 'Czechia'], 'SVK': ['Slovak Republic'],
    'MKD': ['Macedonia', 'North Macedonia', 'FYR Macedonia'], 'SWZ': ['Swaziland'], 'CPV': ['Cape Verde'],
    'CIV': ['Ivory Coast', "Cote d'Ivoire"], 'HKG': ['Hong Kong', 'Hong Kong SAR'], 'MAC': ['Macau', 'Macao SAR'],
    'TWN': ['Taiwan'], 'PSE': ['Palestine'], 'BRN': ['Brunei'], 'VAT': ['Vatican', 'Vatican City'],
    'XKX': ['Kosovo'], 'CHI': ['Channel Islands'], 'COD': ['DR Congo', 'DRC', 'Congo, Dem. Rep.', 'Congo-Kinshasa'],
    'COG': ['Republic of the Congo', 'Congo, Rep.', 'Congo-Brazzaville'], 'MMR': ['Burma'],
    'TLS': ['East Timor'], 'ARE': ['UAE'], 'BIH': ['Bosnia'], 'GMB': ['The Gambia'], 'BHS': ['The Bahamas'],
    'FSM': ['Federated States of Micronesia'], 'EGY': ['Egypt, Arab Rep.'], 'YEM': ['Yemen, Rep.'],
}
RU_SHORT = {
    'RUS': ['Россия', 'РФ', 'Российская Федерация'], 'KGZ': ['Киргизия', 'Кыргызстан', 'Кыргызская Республика', 'Киргизская Республика'],
    'BLR': ['Беларусь', 'Белоруссия', 'Республика Беларусь'], 'CHN': ['КНР', 'Китай', 'Китайская Народная Республика'],
    'KAZ': ['Казахстан'], 'UZB': ['Узбекистан', 'Республика Узбекистан'], 'TJK': ['Таджикистан', 'Республика Таджикистан'],
    'TKM': ['Туркменистан', 'Туркмения'], 'AZE': ['Азербайджан', 'Азербайджанская Республика'],
    'ARM': ['Армения', 'Республика Армения'], 'GEO': ['Грузия'], 'MDA': ['Молдова', 'Молдавия', 'Республика Молдова'],
    'UKR': ['Украина'], 'DEU': ['Германия', 'ФРГ'], 'ISR': ['Израиль'], 'USA': ['США', 'Соединённые Штаты Америки', 'Соединённые Штаты'],
    'TUR': ['Турция', 'Турецкая Республика'], 'MNG': ['Монголия'], 'GBR': ['Великобритания', 'Соединённое Королевство'],
    'KOR': ['Южная Корея', 'Республика Корея', 'Корея'], 'PRK': ['КНДР', 'Северная Корея'], 'IRN': ['Иран'],
    'VNM': ['Вьетнам'], 'IND': ['Индия'], 'PAK': ['Пакистан'], 'AFG': ['Афганистан'], 'LVA': ['Латвия'],
    'LTU': ['Литва'], 'EST': ['Эстония'], 'POL': ['Польша'], 'CZE': ['Чехия'], 'ARE': ['ОАЭ', 'Объединённые Арабские Эмираты'],
    'SYR': ['Сирия'], 'NLD': ['Нидерланды', 'Голландия'], 'HKG': ['Гонконг'], 'TWN': ['Тайвань'], 'MKD': ['Македония'],
    'XKX': ['Косово'], 'CHI': ['Нормандские острова'],
}
KZ_REGION = {'KAZ': ['Республика Казахстан', 'Republic of Kazakhstan', 'Қазақстан Республикасы']}

ORDER = ['KZ_REGION', 'UN_DESA_2019', 'UN_DESA_2020', 'UN_WPP_2024', 'EN_COMMON', 'RU']
cand = {o: [] for o in ORDER}


def un_code(name):
    base = name.rstrip('*').strip()
    if base in UN_NAMES:
        return UN_NAMES[base]
    return by_name.get(base.casefold())


# UN DESA 2019: names only, map by name
od = list(csv.reader(open(os.path.join(SHARED, 'undesa', 'migrant_stock_od_2019.csv'), encoding='utf-8')))
names19 = set(od[0][2:]) | {r[1] for r in od[1:]}
p19 = list(csv.reader(open(os.path.join(SHARED, 'undesa', 'population_totals_2019.csv'), encoding='utf-8')))
names19 |= {r[0] for r in p19[1:]}
for n in sorted(names19 - UN_AGGREGATES_2019):
    c = un_code(n)
    if c is None:
        sys.exit(f'unmapped 2019 name: {n}')
    cand['UN_DESA_2019'].append((n, c))

# UN DESA 2020 and WPP 2024: carry M49 codes; a row is a country when its code is in countries.csv
problems = []
def coded(rows, origin):
    for n, m49 in rows:
        if m49 not in by_m49:
            continue
        c = by_m49[m49]
        if un_code(n) != c:
            problems.append(f'{origin}: {n!r} code {m49} -> {c}, name -> {un_code(n)}')
        cand[origin].append((n, c))
        if n.endswith('*'):
            cand[origin].append((n.rstrip('*').strip(), c))

for f in ('stock_totals_2020.csv', 'population_totals_2020.csv'):
    rows = {(r['name'], int(r['country_code'])) for r in csv.DictReader(open(os.path.join(SHARED, 'undesa', f), encoding='utf-8'))}
    coded(sorted(rows), 'UN_DESA_2020')
wrows = set()
for f in sorted(os.listdir(os.path.join(SHARED, 'wpp2024'))):
    if f.endswith('.txt'):
        for r in csv.DictReader(open(os.path.join(SHARED, 'wpp2024', f), encoding='utf-8'), delimiter='\t'):
            wrows.add((r['country'], int(r['country_code'])))
coded(sorted(wrows), 'UN_WPP_2024')

for origin, table in (('EN_COMMON', EN_COMMON), ('RU', RU_SHORT), ('KZ_REGION', KZ_REGION)):
    for c, vs in table.items():
        assert c in codes, c
        for v in vs:
            cand[origin].append((v, c))
            if 'ё' in v:
                cand[origin].append((v.replace('ё', 'е'), c))
# full Russian names from iso-codes (via countries.csv) as RU spellings
for c in countries:
    cand['RU'].append((c['name_ru'], c['alpha3']))
    if 'ё' in c['name_ru']:
        cand['RU'].append((c['name_ru'].replace('ё', 'е'), c['alpha3']))

out, seen = [], {}
for o in ORDER:
    for v, c in cand[o]:
        k = v.casefold()
        if k in seen:
            if seen[k] != c:
                problems.append(f'conflict: {v!r} -> {seen[k]} and {c} ({o})')
            continue
        seen[k] = c
        out.append((v, c, o))
if problems:
    print('\n'.join(problems))
    sys.exit(1)
with open(os.path.join(HERE, 'area_variants.csv'), 'w', newline='', encoding='utf-8') as fh:
    w = csv.writer(fh, lineterminator='\n')
    w.writerow(['variant', 'code', 'origin'])
    w.writerows(out)
print(len(out), 'rows')
