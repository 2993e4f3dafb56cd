# Regenerates countries.csv from Debian iso-codes (LGPL-2.1). Usage: python3 build_countries.py countries.csv
import json, gettext, csv, sys
d = json.load(open('/usr/share/iso-codes/json/iso_3166-1.json'))['3166-1']
tr = {l: gettext.GNUTranslations(open(f'/usr/share/locale/{l}/LC_MESSAGES/iso_3166-1.mo','rb')) for l in ('ru','kk')}
missing = []
rows = []
for c in d:
    r = [c['alpha_3'], c['alpha_2'], str(int(c['numeric'])), c['name']]
    for l in ('ru','kk'):
        t = tr[l]._catalog.get(c['name'])
        if not t:
            missing.append((l, c['name'])); t = c['name']
        r.append(t)
    rows.append(r)
rows.append(['XKX','XK','412','Kosovo','Косово','Косово'])
rows.append(['CHI','','830','Channel Islands','Нормандские острова','Нормандия аралдары'])
rows.sort(key=lambda r: r[0])
w = csv.writer(open(sys.argv[1],'w',newline='',encoding='utf-8'), lineterminator='\n')
w.writerow(['alpha3','alpha2','m49','name_en','name_ru','name_kk'])
w.writerows(rows)
print(len(rows), 'missing:', missing)
