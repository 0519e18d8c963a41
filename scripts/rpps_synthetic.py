#!/usr/bin/env python3
"""Fictional extractions in the format of the ANS file PS_LibreAcces_Personne_activite.

Pipe-separated, a trailing `|` on every line, the 56 columns of the current release,
one line per activity (a professional practising in two places has two lines, one
after the other). Every person, number and structure here is made up; RPPS numbers
and SIRET carry valid Luhn keys, as real ones do.

    scripts/rpps_synthetic.py fixture            # rewrites tests/fixtures/rpps/
    scripts/rpps_synthetic.py bench --rows 1000000 --out /tmp/rpps-1m.txt

`fixture` is deterministic: the files it writes are committed, and a test reads them.
`bench` writes a national-size file for the import benchmark (docs/benchmarks.md); it
is not committed.
"""

import argparse
import os
import random
import sys

HEADER = [
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité", "Libellé civilité",
    "Nom d'exercice", "Prénom d'exercice", "Code profession", "Libellé profession",
    "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site",
    "Numéro FINESS site", "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
    "Complément destinataire (coord. structure)", "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)", "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)", "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)", "Code postal (coord. structure)",
    "Code commune (coord. structure)", "Libellé commune (coord. structure)",
    "Code pays (coord. structure)", "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code Département (structure)",
    "Libellé Département (structure)", "Ancien identifiant de la structure",
    "Autorité d'enregistrement", "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
    "Code rôle", "Libellé rôle", "Code genre activité", "Libellé genre activité",
]

PROFESSIONS = {
    "10": "Médecin", "21": "Pharmacien", "40": "Chirurgien-Dentiste", "50": "Sage-Femme",
    "60": "Infirmier", "70": "Masseur-Kinésithérapeute", "80": "Pédicure-Podologue",
    "91": "Orthophoniste", "92": "Orthoptiste", "96": "Psychomotricien",
}
SPECIALTIES = {
    "SM54": "Médecine générale", "SM04": "Cardiologie et maladies vasculaires",
    "SM15": "Dermatologie et vénéréologie", "SM40": "Pédiatrie", "SM42": "Psychiatrie",
    "SM24": "Gériatrie", "SM21": "Gynécologie-obstétrique", "SM39": "Ophtalmologie",
}
SECTORS = {
    "SA01": "Etablissement public de santé", "SA05": "Centre de santé",
    "SA07": "Cabinet individuel", "SA08": "Cabinet de groupe", "SA33": "Pharmacie d'officine",
}
MODES = {"L": "Libéral", "S": "Salarié"}
CIVILITIES = {"DR": "Docteur", "M": "Monsieur", "MME": "Madame"}

# The territory of the fixture: communes of the Métropole européenne de Lille, with
# their INSEE code and one postal code. Villeneuve-d'Ascq is outside the CPTS.
COMMUNES = [
    ("59350", "59000", "Lille"), ("59350", "59800", "Lille"), ("59350", "59260", "Lille"),
    ("59328", "59130", "Lambersart"), ("59368", "59110", "La Madeleine"),
    ("59378", "59700", "Marcq-en-Barœul"), ("59527", "59350", "Saint-André-lez-Lille"),
    ("59386", "59520", "Marquette-lez-Lille"), ("59636", "59118", "Wambrechies"),
    ("59360", "59120", "Loos"), ("59009", "59650", "Villeneuve-d'Ascq"),
]

LAST_NAMES = [
    "VANDENBROUCKE", "DELEBARRE", "LEFÈVRE", "D'HONDT", "DECOCK", "DEVOS", "DESMET",
    "VERHAEGHE", "DUJARDIN", "CARPENTIER", "LEMAIRE", "HENNEBERT", "POTTIER", "DELANNOY",
    "LAMBLIN", "CORDONNIER", "MASSON", "BOUTRY", "DEBUREAUX", "VANHOVE", "LECLERCQ",
    "DEMEYER", "WATTEAU", "MOREL", "FAUQUEMBERGUE", "DUBRULLE", "HOCHART", "DELATTRE",
    "SENECHAL", "BEAUCAMP", "CASTELAIN", "DEHAENE", "LEBLANC", "VASSEUR", "HOUZÉ",
    "LECOMTE", "DUHAMEL", "CAUDRON", "BRACQ", "DE SMET", "VAN DAMME", "LE GOFF",
    "GRÉGOIRE", "FLAMENT", "DERNONCOURT", "BOUCHEZ", "LENGLET", "OBERT", "PRUVOST",
    "DUQUESNE", "TILLIE", "BRUNEEL", "DEWAELE", "MAHIEU", "DELPLANQUE", "DUFOUR",
    "NOËL", "MÉNARD", "BENALI", "HADDAD", "NGUYEN", "DIALLO", "KOWALSKI", "OLIVEIRA",
]
FIRST_NAMES = [
    "Marie", "Élodie", "Thérèse", "Hélène", "François", "Jérôme", "Benoît", "Anaïs", "Zoé",
    "Noémie", "Maëlle", "Jean-Baptiste", "Anne-Sophie", "Chloé", "Mathilde", "Camille",
    "Pierre", "Antoine", "Mélanie", "Céline", "Aurélie", "Grégoire", "Inès", "Léa", "Hugo",
    "Théo", "Amélie", "Clémence", "Cécile", "Frédéric", "Stéphane", "Sébastien", "Karima",
    "Yasmine", "Mehdi", "Quentin", "Margaux", "Bérénice", "Laëtitia", "Gaëlle", "Loïc",
]
STREETS = [
    ("R", "Rue", "Nationale"), ("R", "Rue", "Solférino"), ("BD", "Boulevard", "de la Liberté"),
    ("AV", "Avenue", "de la République"), ("R", "Rue", "Gambetta"), ("PL", "Place", "du Général de Gaulle"),
    ("R", "Rue", "Esquermoise"), ("R", "Rue", "de Paris"), ("R", "Rue", "du Molinel"),
]


def luhn_key(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def rpps(n):
    """An 11-digit RPPS number (10 digits and a Luhn key) for person number n."""
    base = "1000%06d" % n
    return base + luhn_key(base)


def siret(n):
    base = "8%07d00%03d" % (n % 10_000_000, n % 1000)
    return base + luhn_key(base)


class Structure:
    def __init__(self, ident, name, sector, commune, finess="", siret_no="", number=1, street=0):
        self.ident, self.name, self.sector = ident, name, sector
        self.commune, self.finess, self.siret = commune, finess, siret_no
        self.number, self.street = number, street


def line(person, exercice, structure):
    """One activity line (56 fields and the trailing bar)."""
    rpps_no, civ, last, first = person
    profession, specialty, mode = exercice
    insee, postal, town = structure.commune if structure else ("", "", "")
    street = STREETS[structure.street % len(STREETS)] if structure else ("", "", "")
    fields = [
        "8", rpps_no, "8" + rpps_no,
        civ, CIVILITIES.get(civ, ""), "MME" if civ == "MME" else "M",
        "Madame" if civ == "MME" else "Monsieur",
        last, first, profession, PROFESSIONS[profession], "C", "Civil",
        "S" if specialty else "", "Spécialité ordinale" if specialty else "",
        specialty, SPECIALTIES.get(specialty, ""),
        mode, MODES.get(mode, ""),
        structure.siret if structure else "", structure.siret[:9] if structure and structure.siret else "",
        structure.finess if structure else "", "",
        structure.ident if structure else "", structure.name if structure else "", "",
        "", "", str(structure.number) if structure else "", "", street[0], street[1], street[2],
        "", "", postal, insee, town.upper() if town else "",
        "99000" if structure else "", "France" if structure else "",
        ("03%08d" % (int(rpps_no) % 100_000_000)) if structure else "", "", "", "",
        insee[:2] if insee else "", "Nord" if insee.startswith("59") else "",
        "", "ARS/ARS/ARS" if structure else "",
        structure.sector if structure else "", SECTORS.get(structure.sector, "") if structure else "",
        "A" if profession == "21" and structure and structure.sector == "SA33" else "",
        "Section A : pharmaciens titulaires d'officine" if profession == "21" and structure and structure.sector == "SA33" else "",
        "", "", "GENR01", "Activité standard de soin ou de pharmacien",
    ]
    assert len(fields) == len(HEADER), len(fields)
    return "|".join(fields) + "|"


def header_line():
    return "|".join(HEADER) + "|"


# ---------------------------------------------------------------------------------
# The territory fixture

# The sandbox personas (crates/gateway/src/sandbox/personas.rs): same RPPS numbers and
# structure ids, so that their first login binds them and meets the same organisations.
MSP = Structure("R10000001", "Maison de santé des Tilleuls", "SA07", COMMUNES[0], siret_no=siret(1), number=12)
PERSONA_STRUCTURES = {
    "dubois": Structure("R10000002", "Cabinet du Dr Dubois", "SA07", COMMUNES[3], siret_no=siret(2), number=4, street=1),
    "ch": Structure("F590000017", "Centre hospitalier de Lambersart", "SA01", COMMUNES[3], finess="590000017", number=1, street=3),
    "bernard": Structure("R10000003", "Cabinet infirmier Bernard", "SA07", COMMUNES[1], siret_no=siret(3), number=27, street=2),
    "beffroi": Structure("R10000004", "Pharmacie du Beffroi", "SA33", COMMUNES[0], finess="590000025", siret_no=siret(4), number=3, street=5),
}
PERSONAS = [
    (("10001001014", "DR", "MARTIN", "Claire"), [(("10", "SM54", "L"), MSP)]),
    (("10001001022", "DR", "DUBOIS", "Paul"), [(("10", "SM54", "L"), PERSONA_STRUCTURES["dubois"]),
                                               (("10", "SM54", "S"), PERSONA_STRUCTURES["ch"])]),
    (("10001001030", "MME", "BERNARD", "Sophie"), [(("60", "", "L"), PERSONA_STRUCTURES["bernard"])]),
    (("10001001048", "M", "PETIT", "Julien"), [(("21", "", "L"), PERSONA_STRUCTURES["beffroi"])]),
    (("10001001055", "M", "MOREAU", "Lucas"), [(("70", "", "L"), MSP), (("80", "", "L"), MSP)]),
    (("10001001063", "MME", "LEROY", "Emma"), [(("50", "", "L"), MSP)]),
]

# Who the tests look for by name: a second Claire Martin (same name as gp-martin,
# another national id, a nurse in Loos), a Lefèvre to find without the accent, and the
# two professionals of the "moved and left" file.
NAMED = [
    (("10002009990", "MME", "MARTIN", "Claire"), [(("60", "", "L"), "loos")]),
    (("10002009982", "MME", "LEFÈVRE", "Éloïse"), [(("70", "", "L"), "madeleine")]),
    (("10002009974", "MME", "DELEBARRE", "Anne"), [(("60", "", "L"), "lille")]),
    (("10002009966", "M", "VERHAEGHE", "Grégoire"), [(("70", "", "L"), "lambersart")]),
]

def persona_lines():
    out = []
    for person, activities in PERSONAS:
        for exercice, structure in activities:
            out.append(line(person, exercice, structure))
    return out


def fixture_people(rng):
    """(person, [(exercice, structure)]) for the territory, personas first."""
    people = [(p, list(a)) for p, a in PERSONAS]
    by_commune = {}
    serial = 100

    def cabinet(kind, commune, number):
        nonlocal serial
        serial += 1
        name = {"60": "Cabinet infirmier", "70": "Cabinet de kinésithérapie", "10": "Cabinet médical",
                "40": "Cabinet dentaire", "50": "Cabinet de sage-femme", "91": "Cabinet d'orthophonie",
                "80": "Cabinet de podologie", "92": "Cabinet d'orthoptie", "96": "Cabinet de psychomotricité"}[kind]
        town = commune[2]
        return Structure("R1%07d" % serial, "%s %s" % (name, town), "SA08" if rng.random() < 0.4 else "SA07",
                         commune, siret_no=siret(serial), number=number, street=serial)

    pharmacies = [
        Structure("R2%07d" % i, name, "SA33", COMMUNES[c], finess="59%07d" % (100 + i), siret_no=siret(500 + i), number=i + 2, street=i)
        for i, (name, c) in enumerate([
            ("Pharmacie de la Grand'Place", 0), ("Pharmacie Gambetta", 1), ("Pharmacie du Square", 3),
            ("Pharmacie de l'Église", 4), ("Grande Pharmacie du Croisé", 5), ("Pharmacie Saint-André", 6),
            ("Pharmacie des Écluses", 7), ("Pharmacie du Centre", 8), ("Pharmacie de Loos", 9),
            ("Pharmacie du Triolo", 10),
        ])
    ]
    centre = Structure("R30000001", "Centre de santé Wazemmes", "SA05", COMMUNES[1], finess="590001234", number=40, street=8)
    named = {
        "loos": cabinet("60", COMMUNES[9], 8), "madeleine": cabinet("70", COMMUNES[4], 15),
        "lille": cabinet("60", COMMUNES[2], 21), "lambersart": cabinet("70", COMMUNES[3], 2),
    }
    for person, activities in NAMED:
        people.append((person, [(e, named[k]) for e, k in activities]))

    plan = [  # (profession, specialties, count)
        ("10", ["SM54"] * 6 + ["SM04", "SM15", "SM40", "SM42", "SM24", "SM21", "SM39"], 55),
        ("60", [""], 50), ("21", [""], 22), ("70", [""], 30), ("50", [""], 10),
        ("40", [""], 15), ("91", [""], 10), ("80", [""], 6), ("92", [""], 3), ("96", [""], 4),
    ]
    n = 100
    for profession, specialties, count in plan:
        for _ in range(count):
            n += 1
            last = rng.choice(LAST_NAMES)
            first = rng.choice(FIRST_NAMES)
            civ = "DR" if profession in ("10", "40") else rng.choice(["M", "MME", "MME"])
            specialty = rng.choice(specialties)
            commune = rng.choice(COMMUNES)
            activities = []
            if profession == "21":
                activities.append(((profession, "", "L" if rng.random() < 0.4 else "S"), rng.choice(pharmacies)))
            elif profession == "10" and rng.random() < 0.15:
                activities.append(((profession, specialty, "S"), PERSONA_STRUCTURES["ch"]))
            elif rng.random() < 0.05:
                activities.append(((profession, specialty, "S"), centre))
            else:
                key = (profession, commune[0])
                pool = by_commune.setdefault(key, [])
                if pool and rng.random() < 0.5:
                    s = rng.choice(pool)
                else:
                    s = cabinet(profession, commune, rng.randint(1, 180))
                    pool.append(s)
                activities.append(((profession, specialty, "L"), s))
                # Some practise in a second place as well (one line each).
                if rng.random() < 0.3:
                    other = rng.choice(COMMUNES)
                    second = PERSONA_STRUCTURES["ch"] if profession == "10" else (
                        centre if rng.random() < 0.5 else cabinet(profession, other, rng.randint(1, 90)))
                    activities.append(((profession, specialty, "S" if second.sector in ("SA01", "SA05") else "L"), second))
            people.append(((rpps(n), civ, last, first), activities))
    return people


def write(path, lines, encoding="utf-8", newline="\n", bom=False):
    with open(path, "w", encoding=encoding, newline="") as f:
        if bom:
            f.write("\ufeff")
        for l in lines:
            f.write(l + newline)


def fixture(out_dir):
    rng = random.Random(59350)
    people = fixture_people(rng)
    main = [header_line()]
    for person, activities in people:
        for exercice, structure in activities:
            main.append(line(person, exercice, structure))
    os.makedirs(out_dir, exist_ok=True)
    write(os.path.join(out_dir, "territoire.txt"), main)

    # The next extraction: Anne DELEBARRE moved from Lille to La Madeleine (a new
    # cabinet), Grégoire VERHAEGHE left (no line any more); everyone else as before.
    moved = Structure("R19999999", "Cabinet infirmier du Romarin", "SA07", COMMUNES[4], siret_no=siret(9999), number=5, street=4)
    later = [header_line()]
    for person, activities in people:
        if person[2] == "VERHAEGHE" and person[0] == "10002009966":
            continue
        if person[2] == "DELEBARRE" and person[0] == "10002009974":
            activities = [(e, moved) for e, _ in activities]
        for exercice, structure in activities:
            later.append(line(person, exercice, structure))
    write(os.path.join(out_dir, "territoire_suivant.txt"), later)

    # Header variants, with the personas' lines (and the Lefèvre whose accents must
    # survive the encoding).
    sample = people[:6] + [p for p in people if p[0][2] == "LEFÈVRE" and p[0][0] == "10002009982"]
    # 1. An older release: spellings without accents or punctuation, Windows-1252,
    #    CRLF line ends.
    old = [h.replace("é", "e").replace("É", "E").replace(".", "").replace("'", " ") for h in HEADER]
    lines = ["|".join(old) + "|"]
    for person, activities in sample:
        for exercice, structure in activities:
            lines.append(line(person, exercice, structure))
    write(os.path.join(out_dir, "variante_ancienne_cp1252.txt"), lines, encoding="cp1252", newline="\r\n")
    # 2. Upper case, another column order, only some columns, a byte-order mark, no
    #    trailing bar.
    wanted = ["Code commune (coord. structure)", "Nom d'exercice", "Prénom d'exercice",
              "Identification nationale PP", "Code profession", "Code savoir-faire",
              "Code type savoir-faire", "Code mode exercice", "Identifiant technique de la structure",
              "Raison sociale site", "Numéro FINESS site", "Code secteur d'activité"]
    at = [HEADER.index(w) for w in wanted]
    lines = ["|".join(w.upper() for w in wanted)]
    for person, activities in sample:
        for exercice, structure in activities:
            fields = line(person, exercice, structure).split("|")
            lines.append("|".join(fields[i] for i in at))
    write(os.path.join(out_dir, "variante_majuscules.txt"), lines, bom=True)

    # 3. Malformed lines among good ones (the test names their line numbers).
    good = [line(person, exercice, structure) for person, activities in sample[:3] for exercice, structure in activities]
    broken_key = good[0].replace("810001001014", "810001001015").replace("|10001001014|", "|10001001015|")
    short = "|".join(good[1].split("|")[:20]) + "|"
    bad_commune = good[2].replace("|59328|", "|LAMBERSART|")
    no_name = line((rpps(998), "M", "", "Jean"), ("60", "", "L"), MSP)
    bad_finess = line((rpps(997), "M", "ROUSSEL", "Jean"), ("21", "", "L"),
                      Structure("R29999999", "Pharmacie Roussel", "SA33", COMMUNES[0], finess="59ABC", number=1))
    lines = [header_line(), good[0], broken_key, good[1], short, good[2], bad_commune, no_name, bad_finess, good[3]]
    write(os.path.join(out_dir, "lignes_invalides.txt"), lines)

    # 4. Not the right file: the profession and commune columns are missing.
    keep = [h for h in HEADER if h not in ("Code profession", "Code commune (coord. structure)")]
    write(os.path.join(out_dir, "colonnes_manquantes.txt"),
          ["|".join(keep) + "|", "8|10001001014|810001001014|DR|Docteur|" + "|" * (len(keep) - 5)])
    print("%d professionals, %d lines in %s" % (len(people), len(main) - 1, out_dir), file=sys.stderr)


# ---------------------------------------------------------------------------------
# The national-size file

SYLLABLES = ["ba", "be", "bou", "ca", "cha", "co", "da", "de", "di", "du", "fa", "fe", "ga", "gi",
             "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "pa", "pe", "pi", "po",
             "ra", "re", "ri", "ro", "sa", "se", "ta", "te", "ti", "va", "ve", "vi", "ber", "mar",
             "ton", "lan", "ret", "val", "mont", "cour", "vil", "gar", "dre", "quet", "nier"]


def bench(rows, out):
    rng = random.Random(1_000_000)
    surnames = [n for n in LAST_NAMES]
    while len(surnames) < 60_000:
        surnames.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).upper())
    departments = ["%02d" % d for d in range(1, 96) if d != 20] + ["2A", "2B"]
    professions = ["10"] * 25 + ["60"] * 30 + ["21"] * 8 + ["70"] * 12 + ["50"] * 3 + ["40"] * 6 + ["91"] * 3 + ["80"] * 2
    structures = []
    written = 0
    n = 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(header_line() + "\n")
        while written < rows:
            n += 1
            # Common names are common, as in France: the weight of the name of rank r
            # is 1/(r + 50), so the commonest holds ~0.3% of people and the hundred
            # commonest ~15% (drawn by inverting the distribution's integral).
            rank = int(50 * (len(surnames) / 50 + 1) ** rng.random() - 50)
            last = surnames[min(rank, len(surnames) - 1)]
            first = rng.choice(FIRST_NAMES)
            profession = rng.choice(professions)
            specialty = rng.choice(list(SPECIALTIES)) if profession == "10" else ""
            civ = "DR" if profession in ("10", "40") else rng.choice(["M", "MME"])
            k = 1 if rng.random() < 0.75 else (2 if rng.random() < 0.8 else 3)
            for _ in range(k):
                if structures and rng.random() < 0.6:
                    s = rng.choice(structures)
                else:
                    dep = rng.choice(departments)
                    insee = dep + "%03d" % rng.randint(1, 700)
                    sector = "SA33" if profession == "21" else rng.choice(["SA07", "SA07", "SA08", "SA01", "SA05"])
                    sid = len(structures) + 1
                    s = Structure("R%09d" % sid, "Structure %d" % sid, sector, (insee, dep + "000", "COMMUNE " + insee),
                                  finess=(dep + "%07d" % sid) if sector in ("SA01", "SA33", "SA05") else "",
                                  siret_no=siret(sid), number=sid % 200, street=sid)
                    if len(structures) < 200_000:
                        structures.append(s)
                    else:  # keep the pool bounded: replace one at random
                        structures[rng.randrange(len(structures))] = s
                f.write(line((rpps(n), civ, last, first), (profession, specialty, "L"), s) + "\n")
                written += 1
                if written >= rows:
                    break
    print("%d lines, %d professionals in %s" % (written, n, out), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fixture", help="rewrite the committed test fixtures")
    f.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "rpps"))
    b = sub.add_parser("bench", help="write a national-size synthetic extraction")
    b.add_argument("--rows", type=int, default=1_000_000)
    b.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "fixture":
        fixture(os.path.normpath(args.out))
    else:
        bench(args.rows, args.out)


if __name__ == "__main__":
    main()
