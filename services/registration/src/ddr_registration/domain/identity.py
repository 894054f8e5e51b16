"""Identity matching for pre-registration: who on the lists is the same person under another spelling.

The same combatant can appear on two movements' lists, or twice on one, as *Mohamed Ag Intalla*,
*Muhammad Ould Intalla*, *INTALLA Mohammed* or *محمد أغ إنتالا*. This module, pure Python, turns names into
comparable tokens, indexes people by blocking keys so that each new person is compared with a handful of
others instead of everyone (74,000 people make 2.7 billion pairs), and scores the pairs it does compare.

Pipeline:

1. :func:`normalise_name`: Arabic script through :data:`ARABIC_NAMES` (whole-name forms) then ``anyascii``;
   Latin lowercased, diacritics removed, split on anything that is not a letter; then every token is mapped
   to its canonical form by :data:`NAME_VARIANTS` (the one table of spelling families, documented there).
2. :func:`blocking_keys`: pairs of canonical tokens, of their metaphone codes and of their consonant
   skeletons (which is what lets Latin meet Arabic script), each combined with the birth year and the years
   either side; a person with no birth year gets year-free keys on the whole name instead.
3. :func:`match_score`: a Fellegi-Sunter posterior probability that two records are one person: the best
   name similarity over every pair of spellings (rapidfuzz), worth more the rarer the name, then birth year
   (and day, when both lists give full dates), sex and origin agreement, then the father's and mother's names
   and the place of birth when both sides give them (agreement strong evidence, clear disagreement strong
   counter-evidence, missing neutral), with the reasons; the same biometric hash is a certain duplicate.
4. :class:`CandidateIndex`: the incremental in-memory index the import feeds (``add``, ``remove``,
   ``candidates``).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from rapidfuzz import fuzz

__all__ = [
    "ARABIC_NAMES",
    "LIKELY_THRESHOLD",
    "MAX_BLOCK_SIZE",
    "NAME_VARIANTS",
    "PARTICLES",
    "SUSPECT_THRESHOLD",
    "CandidateIndex",
    "IdentityRecord",
    "Match",
    "blocking_keys",
    "match_score",
    "normalise_name",
]

# --------------------------------------------------------------------------------------------------------------
# The tables. Everything language-specific lives here; the code below only applies them.
# --------------------------------------------------------------------------------------------------------------

SON_OF = "ag"
"""The one token every "son of" particle becomes: Tamasheq *ag*, Arabic/Hassaniya *ould* (ولد), *ben*, *ibn*."""

DAUGHTER_OF = "mint"
"""The one token every "daughter of" particle becomes: Tamasheq *walet/welet*, Hassaniya *mint*, Arabic *bint*."""

NAME_VARIANTS: Mapping[str, tuple[str, ...]] = {
    # canonical form: the spellings (after lowercasing and removing diacritics) that mean the same name.
    # Particles (filiation) first; they are kept in normalised names but ignored for blocking and scoring.
    SON_OF: ("ag", "agg", "ould", "o", "weld", "wuld", "ult", "ben", "bin", "ibn", "ibnou"),
    DAUGHTER_OF: ("mint", "mennt", "ment", "bint", "bent", "walet", "welet", "welt", "oult", "wallet"),
    # Given names of the Muhammad family (Arabic, French, Songhai/Fulfulde transliterations).
    "mohamed": (
        "mohamed",
        "mohammed",
        "muhammad",
        "muhammed",
        "mohammad",
        "mohamad",
        "mouhamed",
        "mouhammed",
        "mouhamad",
        "mouhamadou",
        "mahamadou",
        "mahamado",
        "mohamedou",
        "mahamed",
        "mohamet",
        "mahomed",
        "mouhammad",
        "mohammedou",
        "md",
        "mohd",
        "med",
    ),
    "ahmed": ("ahmed", "ahmad", "ahmet", "ahmat", "ahmadou", "ahamadou"),
    # Fulfulde/Songhai forms, kept apart from Ahmed: lists write them as names of their own
    "hamadoun": ("hamadoun", "hamadou", "amadou", "amadu", "hamadi"),
    "hamed": ("hamed", "hamid", "hamide"),  # Arabic Hamid (حامد), not Ahmed
    "mahmoud": ("mahmoud", "mahmud", "mahamoud", "mahmoudou", "mahamoudou", "mamoud", "mamoudou"),
    "moctar": ("moctar", "mokhtar", "mukhtar", "mouctar", "mouktar", "elmoctar", "almoctar", "almokhtar"),
    "ibrahim": (
        "ibrahim",
        "ibrahima",
        "brahim",
        "brahima",
        "ebrahim",
        "ibrahime",
        "ibrahimou",
        "ibrahym",
        "brehima",
    ),
    "ismael": ("ismael", "ismail", "ismaila", "ismaela", "smail", "soumaila", "soumayla"),
    "idrissa": ("idrissa", "idris", "idriss", "driss", "idrissou", "drissa"),
    "issa": ("issa", "isa", "aissa"),
    "assaleh": ("assaleh", "assalah", "salah", "saleh", "essaleh"),
    "acherif": ("acherif", "acharif", "cherif", "charif", "elcherif", "alcharif"),
    "elmehdi": ("elmehdi", "mehdi", "mahdi", "almahdi", "elmahdi"),
    "lamine": ("lamine", "elamine", "amine", "alamine", "lamin"),
    "cheikh": ("cheikh", "cheick", "shaykh", "cheik", "chekh", "sheikh"),
    "harouna": ("harouna", "haroun", "harun", "harona"),
    "seydou": ("seydou", "seidou", "sidou", "seydu"),
    "bakary": ("bakary", "bakari"),
    "hama": ("hama", "hamma"),
    "baba": ("baba", "babah"),
    "hamoudi": ("hamoudi", "hamoudy", "hammoudi"),
    "najem": ("najem", "nadjem", "najim", "nadjim"),
    "bibi": ("bibi", "biby"),
    "sidatti": ("sidatti", "sidati", "sidatt"),
    "bady": ("bady", "badi"),
    "mataly": ("mataly", "matali"),
    "oumar": ("oumar", "omar", "umar", "omer", "oumarou", "oumer"),
    "ousmane": ("ousmane", "othman", "othmane", "uthman", "osman", "usman", "ousman", "usmane", "osmane"),
    "aboubacar": (
        "aboubacar",
        "aboubakar",
        "abubakar",
        "abubakr",
        "aboubakr",
        "boubacar",
        "boubakar",
        "aboubacrine",
        "boubacrine",
        "abubacar",
    ),
    "souleymane": (
        "souleymane",
        "souleimane",
        "suleiman",
        "sulayman",
        "soulaymane",
        "sulaiman",
        "slimane",
        "souleiman",
        "suleyman",
    ),
    "moussa": ("moussa", "musa", "mousa", "mussa"),
    "youssouf": ("youssouf", "yusuf", "youssef", "yousouf", "youcef", "yousef", "youssoufa"),
    "hassane": ("hassane", "hassan", "hasan", "alhassane", "elhassane", "alhassan", "hassana"),
    "alhousseini": (
        "alhousseini",
        "alhousseyni",
        "elhousseini",
        "housseini",
        "housseyni",
        "hussein",
        "houssein",
        "husseini",
        "alhusseini",
        "hussain",
        "alhousseiny",
    ),
    "ali": ("ali", "aly", "aliou", "alou"),
    "abdoulaye": (
        "abdoulaye",
        "abdallah",
        "abdullah",
        "abdallahi",
        "abdoullahi",
        "abdellah",
        "abdoullah",
        "abdalla",
        "abdullahi",
    ),
    "abdelkader": (
        "abdelkader",
        "abdoulkader",
        "abdulkadir",
        "abdelkadir",
        "abdulkader",
        "abdoulkadri",
        "abdelqader",
    ),
    "abderrahmane": (
        "abderrahmane",
        "abdourahmane",
        "abdrahmane",
        "abdulrahman",
        "abdelrahman",
        "abderahmane",
        "abdourahamane",
        "abdurrahman",
        "abdourrahmane",
        "abdelrahmane",
        "abdarrahmane",
        "abdourhamane",
    ),
    "abdelkarim": ("abdelkarim", "abdoulkarim", "abdulkarim", "abdoulkarime", "abdelkrim"),
    "elhadj": ("elhadj", "elhadji", "alhadji", "alhadj", "hadji", "elhaj", "alhaj", "hadj"),
    "sidi": ("sidi", "sidy"),
    "bilal": ("bilal", "bilali", "bilel"),
    "attaher": ("attaher", "ataher", "taher", "tahar", "attahir", "tahir"),
    "intalla": ("intalla", "intallah", "intala", "intalah", "entalla"),
    "ghaly": ("ghaly", "ghali", "ghaley", "ghally", "rhaly", "rhali"),
    # Women's given names.
    "fatoumata": (
        "fatoumata",
        "fatimata",
        "fatima",
        "fatma",
        "fatouma",
        "fatimatou",
        "fadimata",
        "fadimatou",
        "fatoumatou",
        "fatim",
        "fatimetou",
    ),
    "aichatou": ("aichatou", "aicha", "aissata", "aissatou", "aysha", "aisha", "aichata", "aishatou"),
    "mariam": ("mariam", "mariama", "maryam", "mariame", "maryama", "meriem", "mariem"),
    "zeinabou": ("zeinabou", "zeinab", "zaynab", "zenabou", "zainab", "zeynab", "zenab"),
    "khadija": (
        "khadija",
        "khadidja",
        "kadidia",
        "kadiatou",
        "hadijatou",
        "kadidiatou",
        "khadijetou",
        "hadizatou",
        "kadidja",
    ),
    "hawa": ("hawa", "awa", "haoua", "aoua"),
    "safietou": ("safietou", "safiatou", "safia", "safiya", "saffiatou"),
    "raki": ("rakiatou", "rakia", "raki", "rakiya", "rokia", "rokiatou"),
    # Family names whose variants are more than diacritics (Maïga/Maiga, Touré/Toure need no entry).
    "maiga": ("maiga", "maega", "mayga", "maigua"),
    "toure": ("toure", "touray", "ture", "turay"),
    "cisse": ("cisse", "sisse", "cisset"),
    "traore": ("traore", "traoure", "trawre", "trawore"),
    "coulibaly": ("coulibaly", "kulibali", "coulibali", "koulibaly"),
    "keita": ("keita", "keyta", "kaita"),
    "diallo": ("diallo", "jallo", "djallo", "diallou", "dialo"),
    "diarra": ("diarra", "jara", "djara", "diara"),
    "barry": ("barry", "bari", "bary"),
    "bah": ("bah", "ba"),
    "yattara": ("yattara", "yatara"),
    "oumou": ("oumou", "oummou", "um", "oum"),
    "aminata": ("aminata", "amina", "aminatou", "aminetou"),
    "lalla": ("lalla", "lala"),
    "takiya": ("takiya", "takia", "takiyatou"),
    "salka": ("salka", "saleka"),
    "djeneba": ("djeneba", "jeneba", "djenebou"),
    "assitan": ("assitan", "assitane"),
    "haidara": ("haidara", "haydara", "haidar"),
    "dicko": ("dicko", "diko", "dico"),
    "ansari": ("ansari", "ansary", "alansari", "elansari"),
    # Names of the synthetic caseload's larger pools (Tamasheq, Moorish, Songhai, Fulfulde, Bambara, Dogon).
    "alghabass": ("alghabass", "alghabas", "algabass"),
    "iyad": ("iyad", "iyade", "eyad"),
    "rhissa": ("rhissa", "ghissa", "rissa"),
    "mossa": ("mossa", "mosa"),
    "intahmadou": ("intahmadou", "intahmadu"),
    "aghaly": ("aghaly", "aghali", "arhaly"),
    "inawelen": ("inawelen", "inaouelen"),
    "acharatoumane": ("acharatoumane", "acharatoumani", "acheratoumane"),
    "abdoussalam": ("abdoussalam", "abdessalam", "abdousalam"),
    "alla": ("alla", "allah"),
    "fagaga": ("fagaga", "faguaga"),
    "bajan": ("bajan", "badjan"),
    "hamada": ("hamada", "hammada"),
    "akli": ("akli", "akly"),
    "azarock": ("azarock", "azarok", "azarouk"),
    "ehya": ("ehya", "yehia", "yahya"),
    "baye": ("baye", "bay"),
    "hamzata": ("hamzata", "hamza", "hamzatta"),
    "hamatou": ("hamatou", "hammatou"),
    "attayoub": ("attayoub", "ataeyoub", "attaye"),
    "assarid": ("assarid", "assaride"),
    "bouhada": ("bouhada", "bouhadda"),
    "ahmeida": ("ahmeida", "ahmeyda", "hmeida"),
    "achafghi": ("achafghi", "achafrhi"),
    "bouamama": ("bouamama",),
    "hamaha": ("hamaha", "hamaa"),
    "bouya": ("bouya", "boya"),
    "khalil": ("khalil", "elkhalil"),
    "habib": ("habib", "habibou"),
    "ely": ("ely", "elly"),
    "salem": ("salem", "salim"),
    "taleb": ("taleb", "talib"),
    "hamdi": ("hamdi", "hamdy"),
    "moulaye": ("moulaye", "moulay", "mulay"),
    "daddah": ("daddah", "dadah"),
    "abidine": ("abidine", "abeidine", "abidina"),
    "kounta": ("kounta", "kunta"),
    "boureima": ("boureima", "bourema"),
    "hamidou": ("hamidou", "hamidu"),
    "daouda": ("daouda", "dawda", "daoud"),
    "yacouba": ("yacouba", "yakouba", "yacoub"),
    "almoustapha": ("almoustapha", "moustapha", "mustafa"),
    "mahamane": ("mahamane", "mahaman"),
    "adama": ("adama", "adamou"),
    "halidou": ("halidou", "khalidou"),
    "sekou": ("sekou", "seckou"),
    "alassane": ("alassane", "alasane"),
    "hassimi": ("hassimi", "hassimy"),
    "garba": ("garba", "garbah"),
    "abdou": ("abdou", "abdu"),
    "salif": ("salif", "salifou"),
    "allaye": ("allaye", "alaye"),
    "nouhoum": ("nouhoum", "nouhou", "nouhoun"),
    "boukary": ("boukary", "boukari"),
    "sambo": ("sambo", "sambou"),
    "demba": ("demba", "dembo"),
    "samba": ("samba", "sammba"),
    "mamadou": ("mamadou", "mamadu"),
    "alpha": ("alpha", "alfa"),
    "siaka": ("siaka", "siacka"),
    "lassana": ("lassana", "lassina"),
    "bourama": ("bourama", "bourahima"),
    "dramane": ("dramane", "drahmane"),
    "fousseyni": ("fousseyni", "fousseni", "fouseyni"),
    "zoumana": ("zoumana", "zoumanan"),
    "modibo": ("modibo", "modibou"),
    "madou": ("madou", "madu"),
    "karim": ("karim", "karime"),
    "amagana": ("amagana", "amaguana"),
    "ogobara": ("ogobara", "ogobaga"),
    "antandou": ("antandou", "atandou"),
    "tina": ("tina", "tinna"),
    "mina": ("mina", "minna"),
    "agaichatou": ("agaichatou", "aghaichatou"),
    "tafa": ("tafa", "taffa"),
    "disa": ("disa", "dissa"),
    "nana": ("nana", "nanna"),
    "rhaicha": ("rhaicha", "ghaicha"),
    "salamatou": ("salamatou", "salamata"),
    "tahara": ("tahara", "tahira"),
    "tinhinane": ("tinhinane", "tinhinan"),
    "mouna": ("mouna", "mona"),
    "selma": ("selma", "salma"),
    "toutou": ("toutou", "tourou"),
    "aziza": ("aziza", "azizatou"),
    "zahra": ("zahra", "zahara", "zohra"),
    "maimouna": ("maimouna", "meimouna"),
    "ramatou": ("ramatou", "ramata", "rahmatou"),
    "adiaratou": ("adiaratou", "adiara"),
    "bintou": ("bintou", "bintu"),
    "haoussa": ("haoussa", "haousa"),
    "halimatou": ("halimatou", "halima", "alimata"),
    "fati": ("fati", "faty"),
    "coumba": ("coumba", "koumba"),
    "fanta": ("fanta", "fantah"),
    "penda": ("penda", "peinda"),
    "dado": ("dado", "dadho"),
    "salimata": ("salimata", "salimatou"),
    "korotoumou": ("korotoumou", "korotimi"),
    "yagana": ("yagana", "yaguana"),
    "ascofare": ("ascofare", "askofare"),
    "tandina": ("tandina", "tandinah"),
    "djiteye": ("djiteye", "djitteye"),
    "arby": ("arby", "arbi"),
    "alkaya": ("alkaya", "alkaye"),
    "baby": ("baby", "babi"),
    "nientao": ("nientao", "niantao"),
    "sow": ("sow", "sao"),
    "tall": ("tall", "tal"),
    "boly": ("boly", "bolly"),
    "ly": ("ly", "li"),
    "doumbia": ("doumbia", "doumbiya"),
    "sissoko": ("sissoko", "cissoko"),
    "sanogo": ("sanogo", "sanogho"),
    "fofana": ("fofana", "fofanah"),
    "camara": ("camara", "kamara"),
    "bagayoko": ("bagayoko", "bagayogo"),
    "tangara": ("tangara", "tangarra"),
    "mariko": ("mariko", "marico"),
    "guindo": ("guindo", "guindou"),
    "dolo": ("dolo", "dollo"),
    "togo": ("togo", "togho"),
    "tembely": ("tembely", "tembeli"),
    "poudiougo": ("poudiougo", "poudiougou"),
    "tapily": ("tapily", "tapili"),
    "kodio": ("kodio", "codio"),
    "sagara": ("sagara", "saghara"),
}
"""Spelling families: canonical form -> spellings. One table, extended as the lists show new variants.

A spelling must belong to one family only (checked at import). Multi-word spellings are written joined
(``aboubakr``): :func:`normalise_name` first tries joining each token with the next (*Abou Bakr*, *El Hadj*,
*Abdoul Kader*) and keeps the join when the table knows it."""

ARABIC_NAMES: Mapping[str, str] = {
    # Arabic-script forms (after removing short-vowel marks) -> canonical Latin token. Forms not listed fall
    # back to anyascii's consonantal transliteration, which the consonant skeleton can still compare.
    "محمد": "mohamed",
    "محمدو": "mohamed",
    "مُحمد": "mohamed",
    "أحمد": "ahmed",
    "احمد": "ahmed",
    "أحمدو": "ahmed",
    "محمود": "mahmoud",
    "مختار": "moctar",
    "المختار": "moctar",
    "إبراهيم": "ibrahim",
    "ابراهيم": "ibrahim",
    "براهيم": "ibrahim",
    "إسماعيل": "ismael",
    "اسماعيل": "ismael",
    "إدريس": "idrissa",
    "ادريس": "idrissa",
    "عمر": "oumar",
    "عثمان": "ousmane",
    "أبوبكر": "aboubacar",
    "ابوبكر": "aboubacar",
    "بوبكر": "aboubacar",
    "سليمان": "souleymane",
    "موسى": "moussa",
    "موسي": "moussa",
    "يوسف": "youssouf",
    "حسن": "hassane",
    "الحسن": "hassane",
    "حسين": "alhousseini",
    "الحسين": "alhousseini",
    "علي": "ali",
    "عبدالله": "abdoulaye",
    "عبدالقادر": "abdelkader",
    "عبدالرحمن": "abderrahmane",
    "عبدالكريم": "abdelkarim",
    "الحاج": "elhadj",
    "حاج": "elhadj",
    "سيدي": "sidi",
    "بلال": "bilal",
    "الطاهر": "attaher",
    "طاهر": "attaher",
    "إنتالا": "intalla",
    "انتالا": "intalla",
    "إنتالله": "intalla",
    "غالي": "ghaly",
    "فاطمة": "fatoumata",
    "فاطيمة": "fatoumata",
    "فاطمه": "fatoumata",
    "فاطيماتا": "fatoumata",
    "عائشة": "aichatou",
    "عيشة": "aichatou",
    "عائشه": "aichatou",
    "مريم": "mariam",
    "زينب": "zeinabou",
    "خديجة": "khadija",
    "خديجه": "khadija",
    "حواء": "hawa",
    "حوا": "hawa",
    "صفية": "safietou",
    "رقية": "raki",
    "مايغا": "maiga",
    "ميغا": "maiga",
    "توري": "toure",
    "سيسي": "cisse",
    "تراوري": "traore",
    "كوليبالي": "coulibaly",
    "كيتا": "keita",
    "ديالو": "diallo",
    "حيدرة": "haidara",
    "حيدره": "haidara",
    "ديكو": "dicko",
    "الأنصاري": "ansari",
    "الانصاري": "ansari",
    "أنصاري": "ansari",
    "عيسى": "issa",
    "الصالح": "assaleh",
    "صالح": "assaleh",
    "الشريف": "acherif",
    "شريف": "acherif",
    "المهدي": "elmehdi",
    "مهدي": "elmehdi",
    "الأمين": "lamine",
    "الامين": "lamine",
    "الشيخ": "cheikh",
    "شيخ": "cheikh",
    "بابا": "baba",
    "حمودي": "hamoudi",
    "الحسيني": "alhousseini",
    "هارون": "harouna",
    "آمنة": "aminata",
    "امنة": "aminata",
    "لالة": "lalla",
    "تاكية": "takiya",
    "السالكة": "salka",
    "أم": "oumou",
    "ناجم": "najem",
    "بيبي": "bibi",
    "حامد": "hamed",
    "سيداتي": "sidatti",
    "بادي": "bady",
    "مطالي": "mataly",
    "حما": "hama",
    "الغباس": "alghabass",
    "إياد": "iyad",
    "غيسى": "rhissa",
    "موسا": "mossa",
    "إنتاهمادو": "intahmadou",
    "أغالي": "aghaly",
    "إناولن": "inawelen",
    "أشرتمان": "acharatoumane",
    "عبدالسلام": "abdoussalam",
    "آلا": "alla",
    "فقاقا": "fagaga",
    "باجان": "bajan",
    "حمادة": "hamada",
    "أكلي": "akli",
    "أزاروك": "azarock",
    "يحيى": "ehya",
    "باي": "baye",
    "حمزة": "hamzata",
    "حماتو": "hamatou",
    "أتيوب": "attayoub",
    "أسريد": "assarid",
    "بوحدة": "bouhada",
    "أحميدة": "ahmeida",
    "أشفغي": "achafghi",
    "بوعمامة": "bouamama",
    "حماها": "hamaha",
    "بويا": "bouya",
    "الخليل": "khalil",
    "حبيب": "habib",
    "اعلي": "ely",
    "سالم": "salem",
    "الطالب": "taleb",
    "حمدي": "hamdi",
    "مولاي": "moulaye",
    "داداه": "daddah",
    "العابدين": "abidine",
    "كنتة": "kounta",
    "داود": "daouda",
    "يعقوب": "yacouba",
    "المصطفى": "almoustapha",
    "تينا": "tina",
    "مينة": "mina",
    "أغايشاتو": "agaichatou",
    "تافا": "tafa",
    "ديسا": "disa",
    "نانا": "nana",
    "غيشة": "rhaicha",
    "سلامة": "salamatou",
    "طاهرة": "tahara",
    "تينهينان": "tinhinane",
    "منى": "mouna",
    "سلمى": "selma",
    "توتو": "toutou",
    "عزيزة": "aziza",
    "الزهراء": "zahra",
    "ميمونة": "maimouna",
    "رحمة": "ramatou",
    "حليمة": "halimatou",
    # particles
    "أغ": SON_OF,
    "اغ": SON_OF,
    "آغ": SON_OF,
    "ولد": SON_OF,
    "بن": SON_OF,
    "ابن": SON_OF,
    "بنت": DAUGHTER_OF,
    "منت": DAUGHTER_OF,
    "ولت": DAUGHTER_OF,
}
"""Arabic-script name forms -> canonical Latin tokens (``محمد`` -> ``mohamed``, ``أغ``/``ولد`` -> ``ag``).

Two-word forms (``عبد الله``, ``أبو بكر``) are joined before lookup; any other ``عبد ال…`` becomes
``abdel…``."""

PARTICLES: frozenset[str] = frozenset({SON_OF, DAUGHTER_OF})
"""Filiation particles: kept in the normalised name (they are part of it) but not compared or indexed."""

ARTICLES: frozenset[str] = frozenset({"al", "el", "el-", "al-"})
"""Arabic articles written apart (*El Hadj*, *Al Housseini*): joined to the next word when the table knows the
join, dropped otherwise."""

ABD_PREFIXES: frozenset[str] = frozenset({"abd", "abdel", "abdal", "abdul", "abdoul", "abdelal"})
"""*Abd el-…* ("servant of") written apart (*Abdoul Karim*): joined into one ``abdel…`` token."""

SUSPECT_THRESHOLD = 0.55
"""Scores (posterior probabilities) at or above this make a pair a suspected duplicate, listed by
:meth:`CandidateIndex.candidates` for a reviewer: rather more likely one person than two. Set on the tuning
seed (11) of the benchmark, where it gave the best balance of precision and recall (0.956 / 0.954)."""

LIKELY_THRESHOLD = 0.9
"""Scores at or above this make a pair a likely duplicate (a reviewer still decides, unless ``certain``)."""

MAX_BLOCK_SIZE = 400
"""Blocks (people sharing one key) larger than this are not used to find candidates: a key that common says
nothing (every key of a true duplicate pair is shared, so the pair is still found through its rarer keys)."""

# --------------------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------------------

_CANONICAL: dict[str, str] = {}
for _family, _spellings in NAME_VARIANTS.items():
    for _spelling in (_family, *_spellings):
        _key = unicodedata.normalize("NFKD", _spelling).encode("ascii", "ignore").decode()
        if _CANONICAL.setdefault(_key, _family) != _family:
            raise ValueError(f"{_spelling!r} is in two name families: {_CANONICAL[_key]!r} and {_family!r}")

_ARABIC_RE = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_ARABIC_MARKS_RE = re.compile(r"[\u064B-\u065F\u0670\u0640]")  # short vowels, shadda, sukun, tatweel
_ARABIC_JOINS = (
    (re.compile(r"(^|\s)(عبد)\s+(ال)"), r"\1\2\3"),  # عبد الله -> عبدالله
    (re.compile(r"(^|\s)(أبو|ابو)\s+(بكر)"), r"\1\2\3"),  # أبو بكر -> أبوبكر
)
_SPLIT_RE = re.compile(r"[^a-z]+")


def has_arabic(text: str) -> bool:
    """Whether ``text`` contains Arabic script."""
    return _ARABIC_RE.search(text) is not None


def _arabic_token(word: str) -> str:
    known = ARABIC_NAMES.get(word)
    if known is not None:
        return known
    if word.startswith("عبدال") and len(word) > 5:
        return "abdel" + _fold(anyascii(word[5:]))
    return _fold(anyascii(word))


def _fold(text: str) -> str:
    """Lowercase ASCII letters only (diacritics removed, anything else dropped)."""
    return "".join(ch for ch in anyascii(unicodedata.normalize("NFKC", text)).lower() if "a" <= ch <= "z")


def _raw_tokens(text: str) -> list[str]:
    if not has_arabic(text):
        return [
            token for token in _SPLIT_RE.split(anyascii(unicodedata.normalize("NFKC", text)).lower()) if token
        ]
    text = _ARABIC_MARKS_RE.sub("", unicodedata.normalize("NFKC", text))
    for pattern, replacement in _ARABIC_JOINS:
        text = pattern.sub(replacement, text)
    tokens: list[str] = []
    for word in re.split(r"[\s\-\u060C,.;:]+", text):
        if not word:
            continue
        if has_arabic(word):
            token = _arabic_token(word)
            if token:
                tokens.append(token)
        else:
            tokens.extend(t for t in _SPLIT_RE.split(anyascii(word).lower()) if t)
    return tokens


def _canonical(token: str) -> str:
    found = _CANONICAL.get(token)
    if found is not None:
        return found
    for prefix in ("abdoul", "abdel", "abdul", "abdal"):
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            rest = token[len(prefix) :]
            return _CANONICAL.get("abdel" + rest, "abdel" + rest)
    return token


@lru_cache(maxsize=200_000)
def normalise_name(text: str) -> tuple[str, ...]:
    """The canonical tokens of a name, in the order written.

    ``"Muhammad Ould Intalla"``, ``"Mohamed Ag-Intalla"`` and ``"محمد أغ إنتالا"`` all give
    ``("mohamed", "ag", "intalla")``; ``"Maïga"`` gives ``("maiga",)``. Digits are dropped; an empty or
    letterless name gives ``()``.
    """
    raw = _raw_tokens(text)
    tokens: list[str] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        following = raw[i + 1] if i + 1 < len(raw) else None
        if following is not None:
            joined = token + following
            if joined in _CANONICAL:  # Abou Bakr, El Hadj, Abdoul Kader, Al Housseini
                tokens.append(_CANONICAL[joined])
                i += 2
                continue
            if (
                token in ABD_PREFIXES
                and _CANONICAL.get(following, following) not in PARTICLES
                and len(following) >= 3
            ):
                tokens.append(_canonical("abdel" + following))
                i += 2
                continue
        if token in ARTICLES:
            i += 1  # an article the table does not join: dropped
            continue
        tokens.append(_canonical(token))
        i += 1
    return tuple(token for token in tokens if token)


_DIGRAPHS = (
    ("kh", "k"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("dj", "j"),
)
_SKELETON_DROP = str.maketrans(dict.fromkeys("aeiouyhw"))
_SKELETON_MAP = str.maketrans({"q": "k", "c": "k", "x": "k", "z": "s", "p": "b", "v": "f"})


@lru_cache(maxsize=200_000)
def consonant_skeleton(token: str) -> str:
    """The consonants of a canonical token, as Arabic script writes them (vowels, ``h``, ``w``, ``y`` dropped,
    digraphs folded, doubles collapsed): ``ghaly`` and ``غالي`` (``ghly``) both give ``gl``."""
    for digraph, single in _DIGRAPHS:
        token = token.replace(digraph, single)
    token = token.translate(_SKELETON_MAP).translate(_SKELETON_DROP)
    return "".join(ch for i, ch in enumerate(token) if i == 0 or token[i - 1] != ch)


@lru_cache(maxsize=200_000)
def _metaphone(token: str) -> str:
    return jellyfish.metaphone(token) or token


# --------------------------------------------------------------------------------------------------------------
# Records, features, keys
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityRecord:
    """What deduplication knows of one person: every known spelling of the name (Latin and Arabic), the birth
    year, the origin (region, cercle, commune) and, once enrolled, the biometric template's hash.

    ``birth_date`` (when the list gives the full date; its year must then be ``birth_year``) and ``sex`` are
    optional extras: lists are full of namesakes born the same year, and a full date agreeing, or a different
    sex, says more than any spelling. So are ``father_name``, ``mother_name`` ("fils de ... et de ...", as
    written, any script) and ``birth_place`` (commune or locality): two namesakes of one cercle and age
    seldom share both parents' names."""

    person_id: str
    names: tuple[str, ...]
    birth_year: int | None = None
    region: str | None = None
    cercle: str | None = None
    commune: str | None = None
    biometric_hash: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    birth_place: str | None = None

    def __post_init__(self) -> None:
        if self.birth_date is not None and self.birth_year != self.birth_date.year:
            raise ValueError("birth_year must be the year of birth_date")


@dataclass(frozen=True)
class Match:
    """A candidate duplicate of the record asked about: who, how alike (0..1), whether certain, and why."""

    person_id: str
    score: float
    certain: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Spelling:
    arabic: bool
    tokens: tuple[str, ...]  # canonical content tokens (particles removed), sorted
    text: str  # " ".join(tokens)
    skeleton: str  # " ".join(sorted skeletons)


@dataclass(frozen=True)
class _Features:
    record: IdentityRecord
    spellings: tuple[_Spelling, ...]
    origin: tuple[str | None, str | None, str | None] = field(default=(None, None, None))
    father: _Spelling | None = None
    mother: _Spelling | None = None
    birth_place: str | None = None
    fathers_given: frozenset[str] = frozenset()  # the tokens after "Ag" / "Ould" / "Mint": the father's name
    tokens: frozenset[str] = frozenset()  # every canonical token of every spelling


def _place(value: str | None) -> str | None:
    if value is None:
        return None
    folded = _fold(value)
    return folded or None


def _spelling_of(name: str) -> _Spelling | None:
    content = tuple(sorted(t for t in normalise_name(name) if t not in PARTICLES))
    if not content:
        return None
    return _Spelling(
        arabic=has_arabic(name),
        tokens=content,
        text=" ".join(content),
        skeleton=" ".join(sorted(consonant_skeleton(t) for t in content)),
    )


def _features(record: IdentityRecord) -> _Features:
    spellings: dict[tuple[bool, tuple[str, ...]], _Spelling] = {}
    for name in record.names:
        spelling = _spelling_of(name)
        if spelling is not None:
            spellings.setdefault((spelling.arabic, spelling.tokens), spelling)
    origin = (_place(record.region), _place(record.cercle), _place(record.commune))
    fathers_given: set[str] = set()
    for name in record.names:
        tokens = normalise_name(name)
        fathers_given |= {
            tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token in PARTICLES and tokens[i + 1]
        }
    return _Features(
        record=record,
        spellings=tuple(spellings.values()),
        origin=origin,
        father=_spelling_of(record.father_name) if record.father_name else None,
        mother=_spelling_of(record.mother_name) if record.mother_name else None,
        birth_place=_place(record.birth_place),
        fathers_given=frozenset(fathers_given - PARTICLES),
        tokens=frozenset(token for spelling in spellings.values() for token in spelling.tokens),
    )


def _tokens(features: _Features) -> set[str]:
    return {token for spelling in features.spellings for token in spelling.tokens}


def _name_keys(spelling: _Spelling) -> set[str]:
    tokens = sorted(set(spelling.tokens))  # "Ahmed Ag Ahmed" has one distinct token
    keys: set[str] = set()
    skeletons = sorted({consonant_skeleton(t) for t in tokens if len(consonant_skeleton(t)) >= 2})
    if len(tokens) == 1:
        keys.add(f"t:{tokens[0]}")
        keys.add(f"m:{_metaphone(tokens[0])}")
        keys.add(f"s:{consonant_skeleton(tokens[0])}")
    for first, second in itertools.combinations(tokens, 2):
        keys.add(f"t:{first}|{second}")
    codes = sorted({_metaphone(t) for t in tokens})
    for first, second in itertools.combinations(codes, 2):
        keys.add(f"m:{first}|{second}")
    for first, second in itertools.combinations(skeletons, 2):
        keys.add(f"s:{first}|{second}")
    return keys


def _keys(features: _Features) -> set[str]:
    record = features.record
    keys: set[str] = set()
    if record.biometric_hash:
        keys.add(f"b:{record.biometric_hash}")
    name_keys: set[str] = set()
    whole: set[str] = set()
    for spelling in features.spellings:
        name_keys |= _name_keys(spelling)
        whole |= {spelling.text, f"s:{spelling.skeleton}"}
    keys |= {f"f:{name}" for name in whole}  # the whole name, year-free: what a person of unknown year finds
    if record.birth_year is None:
        keys |= {f"{key}@?" for key in name_keys}
        keys |= {f"u:{name}" for name in whole}  # ... and what finds a person of unknown year
    else:
        year = record.birth_year
        keys |= {f"{key}@{y}" for key in name_keys for y in (year - 1, year, year + 1)}
    return keys


def _query_keys(features: _Features, keys: set[str]) -> set[str]:
    """The keys to look up for ``features``: a person of known year looks up the year-free whole name only
    among people of unknown year (``u:``), not among every namesake of every age (``f:``)."""
    if features.record.birth_year is None:
        return keys
    return {key for key in keys if not key.startswith("f:")} | {
        f"u:{key[2:]}" for key in keys if key.startswith("f:")
    }


def blocking_keys(record: IdentityRecord) -> set[str]:
    """The keys under which ``record`` is indexed; two people are compared only if one looks up a key the
    other is indexed under.

    Per spelling: each pair of canonical tokens (``t:``), of their metaphone codes (``m:``) and of their
    consonant skeletons (``s:``, so that Latin meets Arabic script), each with the birth year and the years
    either side (``@1990``; people born up to two years apart share a key), or ``@?`` when the year is
    unknown; the whole sorted name and its skeleton without a year (``f:``; people of unknown year are also
    under ``u:``, which people of known year look up instead of ``f:``); and the biometric hash (``b:``)."""
    return _keys(_features(record))


# --------------------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------------------


def _spelling_similarity(a: _Spelling, b: _Spelling) -> float:
    """0..1: token order ignored; a name that is the other plus extra tokens counts a little less."""
    if a.tokens == b.tokens:
        return 1.0
    best = fuzz.ratio(a.text, b.text)  # texts are sorted tokens: this is token_sort_ratio
    if min(len(a.tokens), len(b.tokens)) >= 2:
        # distinct tokens: token_set_ratio sees "Mohamed Ag Mohamed" as {mohamed}, so a repeated token must
        # not hide that the other name has one more ("Sidi Mohamed Ag Mohamed" / "Sidi Mohamed Ag Mataly")
        extra = abs(len(set(a.tokens)) - len(set(b.tokens)))
        best = max(best, fuzz.token_set_ratio(a.text, b.text) - _EXTRA_TOKEN_POINTS * extra)
    if a.arabic != b.arabic:  # across scripts only the consonants can be compared
        best = max(best, fuzz.ratio(a.skeleton, b.skeleton) - 5.0)
    return max(0.0, best / 100.0)


def _name_similarity(a: _Features, b: _Features) -> tuple[float, _Spelling | None, _Spelling | None]:
    best, best_a, best_b = 0.0, None, None
    for sa in a.spellings:
        for sb in b.spellings:
            similarity = _spelling_similarity(sa, sb)
            if similarity > best:
                best, best_a, best_b = similarity, sa, sb
                if best >= 1.0:
                    return best, best_a, best_b
    return best, best_a, best_b


# Fellegi-Sunter weights, in bits: log2(m / u), m the chance of the observation for one person listed twice,
# u for two different people. Set from the benchmark's tuning caseload (seed 11; never the reported seed 7),
# then softened where that caseload is cleaner than real lists (it never moves a person's cercle or birth day).
_NAME_M = (
    0.9  # share of duplicate pairs whose best spellings are the same canonical tokens (0.985 on seed 11)
)
_NAME_BITS_PER_POINT = 0.40  # bits lost per point (of 100) of name dissimilarity
_EXTRA_TOKEN_POINTS = 10.0  # one name is the other plus a token: that many points off token_set_ratio
_DEFAULT_TOKEN_SHARE = 0.02  # share of people bearing a token, before the index has counted any
_TOKEN_SHARE_PRIOR = 500.0  # pseudo-people smoothing the index's token counts towards the default
_NAME_SHARE_PRIOR = 200.0  # pseudo-people smoothing whole-name counts towards the product of token shares
_YEAR_BITS = {0: 4.9, 1: 1.8, 2: -4.0}  # seed 11: m 0.77 / u 0.025, m 0.17 / u 0.05; two apart: m 0 there
_YEAR_UNKNOWN_BITS = -2.0  # seed 11: m 0.05 / u 0.17 among the pairs near the threshold
_YEAR_FAR_BITS = -12.0
_SAME_DAY_BITS = 10.0  # full dates on both sides, same day and month: m ~ 1, u ~ 1/365 (seed 11: worth more)
_OTHER_DAY_BITS = -6.0  # full dates on both sides that differ: a clerk's slip, or two people
_OTHER_SEX_BITS = -10.0
_ORIGIN_BITS = {
    "same commune": 6.4,  # seed 11: m 0.56 / u 0.0064
    "same cercle": 3.7,  # one commune unknown; m 0.44 / u 0.035
    "different communes": -3.0,  # of one cercle, or cercles unknown
    "different cercles": -5.0,
    "same region": 1.5,  # cercles unknown
    "different regions": -7.0,
    "origin unknown": 0.0,
}
_BIOMETRIC_MISMATCH_BITS = -20.0
# Parents' names and place of birth, when both sides give them; missing on either side says nothing.
# Agreement: "same" canonical tokens, worth log2(m / u) with u the chance that a stranger's parent bears the
# tokens the person's own name does not already tell (a Tamasheq father "Intalla Ag Attaher" of "Mohamed Ag
# Intalla" says "Attaher" and nothing more), from the index's counts of parents' tokens; "part" (one is the
# other cut short: "Fatoumata" / "Fatoumata Welt Ahmed") the same on the shorter, less _PARENT_PART_PENALTY; "close" (rapidfuzz >= _PARENT_CLOSE_RATIO but
# not the same canonical tokens) a little against: on seed 11 only namesakes' parents are that close (Ahmed /
# Hamed), spelling variants being canonical already, but real clerks make slips. "different": strong counter-evidence (seed 11: m
# 0.02, a clerk's slip or a stepmother; u ~ 0.9).
_PARENT_M = 0.9
_PARENT_MAX_BITS = 7.0  # seed 11: 9 or 12 let common-enough parents outweigh the rest
_PARENT_IMPLIED_BITS = 0.5  # the parent's name repeats the person's own (nothing new, but consistent)
_PARENT_PART_PENALTY = 1.0
_PARENT_CLOSE_BITS = -1.0
_PARENT_DIFFERENT_BITS = {"father": -7.0, "mother": -7.0}
_PARENT_CLOSE_RATIO = 85.0
_DEFAULT_PARENT_TOKEN_SHARE = 0.05  # share of parents bearing a token, before the index has counted any
_PARENT_SHARE_PRIOR = 200.0
_BIRTH_PLACE_BITS = {"same": 1.5, "different": -5.0}  # seed 11: m 0.95 / u ~0.4 given one cercle; m ~0
# for "different" there (the simulator never moves a birth place): softened for village / commune slips
DUPLICATE_SHARE = 0.03
"""The expected share of listed rows that repeat someone: with the population, the prior odds of a pair."""
DEFAULT_POPULATION = 74_000
"""The population :func:`match_score` assumes (the index uses its own size)."""


def _prior_bits(population: int) -> float:
    """log2 prior odds that two people taken at random are one: duplicate pairs / all pairs."""
    population = max(population, 1_000)
    return math.log2(DUPLICATE_SHARE * population / (population * (population - 1) / 2))


def _name_bits(similarity: float, sa: _Spelling, sb: _Spelling, share: Callable[[_Spelling], float]) -> float:
    """How telling the name agreement is: the rarer the name (the commoner of the two), the more it says."""
    u = max(share(sa), share(sb), 1e-9)
    return math.log2(_NAME_M / u) - _NAME_BITS_PER_POINT * (100.0 * (1.0 - similarity))


def _default_share(spelling: _Spelling) -> float:
    """Without counts: every token borne by 2% of people, independently."""
    return float(_DEFAULT_TOKEN_SHARE ** len(spelling.tokens))


def _default_parent_share(_role: str, _token: str) -> float:
    return _DEFAULT_PARENT_TOKEN_SHARE


ParentShare = Callable[[str, str], float]


def _context_bits(
    a: _Features,
    b: _Features,
    reasons: list[str] | None = None,
    parent_share: ParentShare = _default_parent_share,
) -> float:
    """Evidence from everything but the name: birth year and date, sex, origin, biometric hashes (bits)."""
    ra, rb = a.record, b.record
    bits = 0.0
    notes: list[str] = []
    if ra.birth_year is None or rb.birth_year is None:
        bits += _YEAR_UNKNOWN_BITS
        notes.append("birth year unknown")
    else:
        gap = abs(ra.birth_year - rb.birth_year)
        bits += _YEAR_BITS.get(gap, _YEAR_FAR_BITS)
        notes.append("same birth year" if gap == 0 else f"birth years {gap} apart")
        if ra.birth_date is not None and rb.birth_date is not None and gap <= 1:
            same_day = (ra.birth_date.month, ra.birth_date.day) == (rb.birth_date.month, rb.birth_date.day)
            bits += _SAME_DAY_BITS if same_day else _OTHER_DAY_BITS
            notes.append("same day and month of birth" if same_day else "different days of birth")
    if ra.sex and rb.sex and ra.sex != rb.sex:
        bits += _OTHER_SEX_BITS
        notes.append("different sexes")
    origin = _origin(a.origin, b.origin)
    bits += _ORIGIN_BITS[origin]
    notes.append(origin)
    if ra.biometric_hash and rb.biometric_hash:  # the same hash is handled before: these differ
        bits += _BIOMETRIC_MISMATCH_BITS
        notes.append("different biometric hashes")
    bits += _family_bits(a, b, notes, parent_share)
    if reasons is not None:
        reasons.extend(notes)
    return bits


def _parent_agreement(a: _Spelling | None, b: _Spelling | None) -> str | None:
    """How two listings of a parent's name compare: None when either is missing."""
    if a is None or b is None:
        return None
    if a.tokens == b.tokens:
        return "same"
    tokens_a, tokens_b = set(a.tokens), set(b.tokens)
    if tokens_a <= tokens_b or tokens_b <= tokens_a:
        return "part"
    if fuzz.ratio(a.text, b.text) >= _PARENT_CLOSE_RATIO or (
        a.arabic != b.arabic and fuzz.ratio(a.skeleton, b.skeleton) >= _PARENT_CLOSE_RATIO
    ):
        return "close"
    return "different"


_PARENT_NOTES = {
    "same": "same {}'s name",
    "part": "{}'s name given in part",
    "close": "{}'s names alike",
    "different": "different {}s' names",
}


def _news(role: str, parent: _Spelling, a: _Features, b: _Features, parent_share: ParentShare) -> set[str]:
    """The tokens of a parent's name that the person's own name does not already tell: a father's given name
    is the one after *Ag* / *Ould* in his child's, or he bears the child's family name; a mother's name is
    all news."""
    tokens = set(parent.tokens)
    if role != "father":
        return tokens
    implied = tokens & (a.fathers_given | b.fathers_given)
    if implied:
        return tokens - implied
    shared = tokens & (a.tokens | b.tokens)
    if shared:  # the family name: the commonest shared token, to be safe
        tokens.discard(max(shared, key=lambda token: (parent_share(role, token), token)))
    return tokens


def _parent_bits(role: str, agreement: str, news: set[str], parent_share: ParentShare) -> float:
    if agreement == "different":
        return _PARENT_DIFFERENT_BITS[role]
    if agreement == "close":
        return _PARENT_CLOSE_BITS
    if not news:
        return _PARENT_IMPLIED_BITS
    u = math.prod(parent_share(role, token) for token in news)
    bits = min(_PARENT_MAX_BITS, math.log2(_PARENT_M / max(u, 1e-9)))
    return bits - _PARENT_PART_PENALTY if agreement == "part" else bits


def _family_bits(a: _Features, b: _Features, notes: list[str], parent_share: ParentShare) -> float:
    """Evidence from the father's and mother's names and the place of birth (bits; 0 when missing)."""
    bits = 0.0
    for role, pa, pb in (("father", a.father, b.father), ("mother", a.mother, b.mother)):
        agreement = _parent_agreement(pa, pb)
        if agreement is not None and pa is not None and pb is not None:
            shorter = pa if len(set(pa.tokens)) <= len(set(pb.tokens)) else pb
            news = _news(role, shorter, a, b, parent_share)
            bits += _parent_bits(role, agreement, news, parent_share)
            notes.append(_PARENT_NOTES[agreement].format(role))
    if a.birth_place and b.birth_place:
        same = a.birth_place == b.birth_place
        bits += _BIRTH_PLACE_BITS["same" if same else "different"]
        notes.append("same place of birth" if same else "different places of birth")
    return bits


def _probability(bits: float) -> float:
    odds: float = 2.0 ** max(-60.0, min(60.0, bits))
    return odds / (1.0 + odds)


def _score(
    a: _Features,
    b: _Features,
    share: Callable[[_Spelling], float] = _default_share,
    population: int = DEFAULT_POPULATION,
    parent_share: ParentShare = _default_parent_share,
) -> Match:
    ra, rb = a.record, b.record
    if ra.biometric_hash and ra.biometric_hash == rb.biometric_hash:
        return Match(rb.person_id, 1.0, True, ("same biometric hash",))
    similarity, sa, sb = _name_similarity(a, b)
    reasons: list[str] = []
    bits = _prior_bits(population)
    if sa is not None and sb is not None:
        script = " across scripts" if sa.arabic != sb.arabic else ""
        reasons.append(f"names {similarity:.0%} alike{script} ({sa.text} / {sb.text})")
        bits += _name_bits(similarity, sa, sb, share)
    else:
        reasons.append("no comparable name")
    bits += _context_bits(a, b, reasons, parent_share)
    return Match(rb.person_id, round(_probability(bits), 4), False, tuple(reasons))


def _origin(
    a: tuple[str | None, str | None, str | None], b: tuple[str | None, str | None, str | None]
) -> str:
    (region_a, cercle_a, commune_a), (region_b, cercle_b, commune_b) = a, b
    if region_a and region_b and region_a != region_b:
        return "different regions"
    if cercle_a and cercle_b and cercle_a != cercle_b:
        return "different cercles"
    if commune_a and commune_a == commune_b:
        return "same commune"
    if commune_a and commune_b:
        return "different communes"
    if cercle_a and cercle_a == cercle_b:
        return "same cercle"
    if region_a and region_a == region_b:
        return "same region"
    return "origin unknown"


def match_score(a: IdentityRecord, b: IdentityRecord) -> Match:
    """How likely ``b`` is ``a`` under another spelling: a :class:`Match` about ``b`` (score 0..1).

    The same biometric hash is certain (score 1.0). Otherwise the score is the posterior probability of a
    Fellegi-Sunter model: prior odds that two of :data:`DEFAULT_POPULATION` people are one (given
    :data:`DUPLICATE_SHARE`), times the evidence of the best name similarity over every pair of spellings
    (rapidfuzz on sorted canonical tokens, so order and particles do not matter; consonant skeletons across
    scripts), worth more for rare names; the birth year (same, one or two apart, further, unknown); the
    origin (commune, cercle, region); the father's and mother's names and the place of birth when both give
    them (agreement for, clear disagreement against, missing neutral); and two different biometric hashes
    (decisive against). Standalone, every
    name token is taken as borne by 2% of people; :class:`CandidateIndex` counts the real shares."""
    return _score(_features(a), _features(b))


# --------------------------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------------------------


class CandidateIndex:
    """Incremental in-memory blocking index: people are compared only with those sharing a key.

    ``add`` and ``remove`` keep it current as lists are imported and people leave; ``candidates`` returns the
    suspected duplicates of a record, best first. Keys shared by more than :data:`MAX_BLOCK_SIZE` people are
    not used for candidate search."""

    def __init__(self, *, threshold: float = SUSPECT_THRESHOLD, max_block_size: int = MAX_BLOCK_SIZE) -> None:
        self.threshold = threshold
        self.max_block_size = max_block_size
        self._features: dict[str, _Features] = {}
        self._keys: dict[str, set[str]] = {}
        self._blocks: dict[str, set[str]] = {}
        self._token_counts: Counter[str] = Counter()  # people bearing each canonical token
        self._name_counts: Counter[str] = (
            Counter()
        )  # people bearing each whole name (sorted canonical tokens)
        # people whose father's / mother's name bears each canonical token, and how many give one
        self._parent_counts: dict[str, Counter[str]] = {"father": Counter(), "mother": Counter()}
        self._parents_given: Counter[str] = Counter()
        self.pairs_compared = 0

    def __len__(self) -> int:
        return len(self._features)

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._features

    def add(self, record: IdentityRecord) -> None:
        """Index ``record`` (replacing any earlier version of the same person)."""
        if record.person_id in self._features:
            self.remove(record.person_id)
        features = _features(record)
        keys = _keys(features)
        self._features[record.person_id] = features
        self._keys[record.person_id] = keys
        self._token_counts.update(_tokens(features))
        self._name_counts.update({spelling.text for spelling in features.spellings})
        self._count_parents(features, 1)
        for key in keys:
            self._blocks.setdefault(key, set()).add(record.person_id)

    def add_all(self, records: Iterable[IdentityRecord]) -> None:
        for record in records:
            self.add(record)

    def remove(self, person_id: str) -> None:
        """Forget ``person_id`` (no error if unknown)."""
        features = self._features.pop(person_id, None)
        if features is not None:
            self._token_counts.subtract(_tokens(features))
            self._name_counts.subtract({spelling.text for spelling in features.spellings})
            self._count_parents(features, -1)
        for key in self._keys.pop(person_id, ()):
            block = self._blocks.get(key)
            if block is not None:
                block.discard(person_id)
                if not block:
                    del self._blocks[key]

    def _count_parents(self, features: _Features, sign: int) -> None:
        for role, parent in (("father", features.father), ("mother", features.mother)):
            if parent is not None:
                self._parents_given[role] += sign
                self._parent_counts[role].update(dict.fromkeys(set(parent.tokens), sign))

    def parent_share(self, role: str, token: str) -> float:
        """The share of indexed people giving a ``role`` ("father"/"mother") name whose parent's name bears
        ``token``, smoothed towards the default while counts are few."""
        given = self._parents_given[role]
        count = self._parent_counts[role].get(token, 0)
        return (count + _PARENT_SHARE_PRIOR * _DEFAULT_PARENT_TOKEN_SHARE) / (given + _PARENT_SHARE_PRIOR)

    def candidates(self, record: IdentityRecord, limit: int = 10) -> list[Match]:
        """Indexed people (other than ``record`` itself) scoring at least the threshold, best first."""
        features = self._features.get(record.person_id)
        if features is None or features.record != record:
            features = _features(record)
            keys = _keys(features)
        else:
            keys = self._keys[record.person_id]
        keys = _query_keys(features, keys)
        seen: set[str] = set()
        for key in keys:
            block = self._blocks.get(key)
            if block is None or (len(block) > self.max_block_size and not key.startswith("b:")):
                continue
            seen |= block
        seen.discard(record.person_id)
        population = len(self._features)  # the prior: how many people a namesake could be among
        share = self.name_share
        parent_share = self.parent_share
        prior = _prior_bits(population)
        needed = math.log2(self.threshold / (1.0 - self.threshold)) if 0.0 < self.threshold < 1.0 else -60.0
        # the most a name can add: a perfect agreement on the rarest of this record's spellings
        best_name = max(
            (math.log2(_NAME_M / max(share(s), 1e-9)) for s in features.spellings),
            default=0.0,
        )
        biometric = record.biometric_hash
        matches: list[Match] = []
        for person_id in seen:
            other = self._features[person_id]
            self.pairs_compared += 1
            if biometric and other.record.biometric_hash == biometric:
                matches.append(Match(person_id, 1.0, True, ("same biometric hash",)))
                continue
            context = prior + _context_bits(features, other, None, parent_share)
            if context + best_name < needed:
                continue  # even the best name agreement could not reach the threshold
            similarity, sa, sb = _name_similarity(features, other)
            if sa is None or sb is None or context + _name_bits(similarity, sa, sb, share) < needed:
                continue
            matches.append(_score(features, other, share, population, parent_share))
        matches.sort(key=lambda m: (not m.certain, -m.score, m.person_id))
        return matches[:limit]

    def token_share(self, token: str) -> float:
        """The share of indexed people bearing ``token``, smoothed towards the default while counts are few."""
        people = len(self._features)
        count = self._token_counts.get(token, 0)
        return (count + _TOKEN_SHARE_PRIOR * _DEFAULT_TOKEN_SHARE) / (people + _TOKEN_SHARE_PRIOR)

    def name_share(self, spelling: _Spelling) -> float:
        """The share of indexed people bearing this whole name, smoothed towards the product of its tokens'
        shares (names are not independent draws of tokens: *Ag* names go with Tamasheq fathers' names)."""
        people = len(self._features)
        independent = math.prod(self.token_share(t) for t in spelling.tokens)
        count = self._name_counts.get(spelling.text, 0)
        return (count + _NAME_SHARE_PRIOR * independent) / (people + _NAME_SHARE_PRIOR)

    def block_sizes(self) -> list[int]:
        """The size of every block (people sharing one key)."""
        return [len(block) for block in self._blocks.values()]
