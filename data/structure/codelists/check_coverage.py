"""Checks that the code lists cover every area, region, age and sex label used by
the source files in ../shared/data (relative to the repository root).
Run from anywhere: python3 data/structure/codelists/check_coverage.py
Prints what is unmatched or inconsistent; exits 1 if anything is."""
import csv, glob, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
SHARED = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'data'))
UN_AGGREGATES_2019 = {'Caribbean', 'Melanesia', 'Micronesia', 'Polynesia', 'South America'}

problems = []


def load(name, **kw):
    with open(os.path.join(HERE, name), encoding='utf-8', newline='') as fh:
        return list(csv.DictReader(fh, **kw))


def src(*parts, delimiter=','):
    with open(os.path.join(SHARED, *parts), encoding='utf-8-sig', newline='') as fh:
        return list(csv.reader(fh, delimiter=delimiter))


countries = load('countries.csv')
codes = {c['alpha3'] for c in countries}
m49 = {int(c['m49']): c['alpha3'] for c in countries}
variants = {}
for r in load('area_variants.csv'):
    if r['code'] not in codes:
        problems.append(f"area_variants: unknown code {r['code']} for {r['variant']!r}")
    k = r['variant'].strip().casefold()
    if k in variants and variants[k] != r['code']:
        problems.append(f"area_variants: {r['variant']!r} maps to {variants[k]} and {r['code']}")
    variants[k] = r['code']


def area(name):
    return variants.get(name.strip().casefold())


stats = {}
# UN DESA 2019: names only
od = src('undesa', 'migrant_stock_od_2019.csv')
names = set(od[0][2:]) | {r[1] for r in od[1:]}
names |= {r[0] for r in src('undesa', 'population_totals_2019.csv')[1:]}
names -= UN_AGGREGATES_2019
for n in sorted(names):
    if area(n) is None:
        problems.append(f'unmatched UN DESA 2019 name: {n!r}')
stats['UN DESA 2019 names'] = len(names)


# UN DESA 2020 and WPP 2024 carry M49 codes: a row is a country when its code is in countries.csv
def coded(label, rows):
    seen = set()
    for name, code in rows:
        code = int(code)
        if code not in m49 or (name, code) in seen:
            continue
        seen.add((name, code))
        got = area(name)
        if got is None:
            problems.append(f'unmatched {label} name: {name!r} ({code})')
        elif got != m49[code]:
            problems.append(f'mismatch {label}: {name!r} -> {got}, but M49 {code} is {m49[code]}')
    stats[label + ' country names'] = len(seen)


for f in ('stock_totals_2020.csv', 'population_totals_2020.csv'):
    rows = src('undesa', f)
    h = rows[0]
    i, j, a = h.index('name'), h.index('country_code'), h.index('alpha3')
    coded('UN DESA 2020 ' + f, [(r[i], r[j]) for r in rows[1:]])
    bad = set()
    for r in rows[1:]:  # the file's own alpha3 (NA = none given) must agree with the M49 code
        if int(r[j]) in m49 and r[a] != 'NA' and r[a] != m49[int(r[j])]:
            bad.add(f'{f}: {r[i]!r} alpha3 {r[a]} but M49 {r[j]} is {m49[int(r[j])]}')
    problems.extend(sorted(bad))
for p in sorted(glob.glob(os.path.join(SHARED, 'wpp2024', '*.txt'))):
    rows = src('wpp2024', os.path.basename(p), delimiter='\t')
    h = rows[0]
    i, j = h.index('country'), h.index('country_code')
    coded('WPP 2024 ' + os.path.basename(p), [(r[i], r[j]) for r in rows[1:]])

# Kazakhstan regions
regions = load('kz_regions.csv')
rv = {}
for r in regions:
    for v in r['variants'].split('|'):
        k = v.strip().casefold()
        if k in rv and rv[k] != r['code']:
            problems.append(f'kz_regions: variant {v!r} in {rv[k]} and {r["code"]}')
        rv[k] = r['code']
    for s in r['successors'].split():
        if s not in {x['code'] for x in regions}:
            problems.append(f'kz_regions: unknown successor {s} of {r["code"]}')
for s in load('kz_region_splits.csv'):
    for c in (s['from'], s['to']):
        if c not in {x['code'] for x in regions}:
            problems.append(f'kz_region_splits: unknown code {c}')
kz_area = {k for k, v in variants.items() if v == 'KAZ'}
ages = {r['variant'].casefold(): r['code'] for r in load('age_variants.csv')}
age_codes = {r['code'] for r in load('age.csv')}
sexes = {r['variant'].casefold(): r['code'] for r in load('sex_variants.csv')}
n_kz = set()
for p in sorted(glob.glob(os.path.join(SHARED, 'kazakhstan', '*.csv'))):
    rows = src('kazakhstan', os.path.basename(p))
    h = rows[0]
    i = h.index('region')
    for r in rows[1:]:
        n = r[i].strip()
        n_kz.add(n)
        if n.casefold() not in rv and n.casefold() not in kz_area:
            problems.append(f'unmatched Kazakhstan region in {os.path.basename(p)}: {n!r}')
        if 'age' in h and r[h.index('age')].casefold() not in ages:
            problems.append(f'unmatched age label in {os.path.basename(p)}: {r[h.index("age")]!r}')
        if 'sex' in h and r[h.index('sex')].casefold() not in sexes:
            problems.append(f'unmatched sex label in {os.path.basename(p)}: {r[h.index("sex")]!r}')
stats['Kazakhstan region names'] = len(n_kz)
for v, c in ages.items():
    if c not in age_codes:
        problems.append(f'age_variants: unknown code {c} for {v!r}')

# groups
gnames = {r['code'] for r in load('group_names.csv')}
for g in load('groups.csv'):
    if g['group'] not in gnames:
        problems.append(f'groups: group {g["group"]} not in group_names.csv')
    if g['member'] not in codes:
        problems.append(f'groups: unknown member {g["member"]}')

for k, v in stats.items():
    print(f'{k}: {v}')
for p in problems:
    print(p)
print(f'unmatched or inconsistent: {len(problems)}')
sys.exit(1 if problems else 0)
