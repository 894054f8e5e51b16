"""Name pools, places and movements of the Sahel lists, written from Sahelian naming, not from the simulator.

Each pool entry is one name, as sounds (:mod:`.phonology`), most common first:

``"muHammad=Mohamed"``
    the sounds, then the usual French spelling when one is established (lists mostly use it);
``"*bureyma=Boureima"``
    ``*``: a name of Tamasheq, Mande or Fulfulde origin (Arabic script writes all its vowels);
``"'abdulaay=Abdoulaye|cabdallaah=Abdallah"``
    ``|``: other forms of the same name; the first is the person's own, a list written by an Arabist or in
    Arabic script may use the last (a Songhai *Abdoulaye* is *Abdallah*, *عبد الله*, on such a list);
``"#hmd"``
    a trailing tag: names that share a root (*Mohamed*, *Ahmed*, *Mahmoud*, *Hamid*), which one family
    gives to several of its sons, so that brothers bear close names.

Ethnic groups: Tuareg (Kel Tamasheq: given name, *Ag* / *Welet* and the father's given name), Arab
(Hassaniya-speaking Berabiche, Kounta, Lamhar: *Ould* / *Mint*), and the family-name peoples of the river and
the centre: Songhai, Fulani (Peul) and Bambara. Movement conventions (script, word order, how dates and
communes are filled) are those that set lists apart in the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Ethnicity = Literal["tuareg", "arab", "songhai", "fulani", "bambara"]
PATRONYMIC: frozenset[Ethnicity] = frozenset({"tuareg", "arab"})


@dataclass(frozen=True)
class Form:
    words: tuple[str, ...]
    usual: str | None
    foreign: bool


@dataclass(frozen=True)
class Name:
    """One name with the forms lists write it under; ``key`` tells names apart, ``group`` their root."""

    key: str
    forms: tuple[Form, ...]
    group: str | None

    @property
    def own(self) -> Form:
        return self.forms[0]

    @property
    def arabic_form(self) -> Form:
        return self.forms[-1]


def _entry(text: str) -> Name:
    text, _, group = text.partition("#")
    forms = []
    for part in text.split("|"):
        foreign = part.startswith("*")
        sounds, _, usual = part.lstrip("*").partition("=")
        forms.append(Form(tuple(sounds.split()), usual or None, foreign))
    return Name(key=text.split("|")[0].lstrip("*").split("=")[0], forms=tuple(forms), group=group or None)


def _pool(*entries: str) -> tuple[Name, ...]:
    return tuple(_entry(e) for e in entries)


MEN: dict[Ethnicity, tuple[Name, ...]] = {
    "tuareg": _pool(
        "muHammad=Mohamed#hmd",
        "'aHmad=Ahmed#hmd",
        "'ibraahiim=Ibrahim",
        "muusaa=Moussa",
        "*'intallaa=Intalla",
        "al-Husayn=Alhousseini#twin",
        "*baay=Baye",
        "Hamma=Hamma",
        "bilaal=Bilal",
        "*'alghabaas=Alghabass",
        "*'iyaad=Iyad",
        "al-mahdii=Elmehdi",
        "yuusuf=Youssouf",
        "cuthmaan=Ousmane",
        "*'aklii=Akly",
        "al-shariif=Acherif",
        "*'assalat=Assalat",
        "*'ewangay=Ewangaye",
        "*'intaHmadu=Intahmadou",
        "*Haballa=Haballa",
        "zayd=Zeid",
        "*'assaghiid=Assaghid",
        "al-Taahir=Attaher",
        "ghaalii=Ghaly",
        "*'aghaalii=Aghaly",
        "*'inawelen=Inawelen",
        "*'ahmuudu=Ahmoudou",
        "*'effad=Effad",
        "*kawsen=Kaocen",
        "*'aklinin=Aklinine",
        "maHmuud=Mahmoud#hmd",
        "al-muSTafaa=Almoustapha",
        "sidi muHammad=Sidi Mohamed",
        "cabd al-salaam=Abdoussalam#abd",
        "al-SaaliH=Assaleh",
        "Haamid=Hamid#hmd",
        "al-Hasan=Alhassane#twin",
        "*'agaatam=Agatam",
        "*wanasnat=Wanasnat",
        "*tanakra=Tanakra",
    ),
    "arab": _pool(
        "muHammad=Mohamed#hmd",
        "'aHmad=Ahmed#hmd",
        "sidi 'aHmad=Sidi Ahmed",
        "muHammad al-'amiin=Mohamed Lamine",
        "baabaa=Baba",
        "Hammuud=Hamoud",
        "muulaay=Moulaye",
        "'abuubakr=Aboubakr",
        "cabdallaahi=Abdallahi",
        "siidaatii=Sidati",
        "shaykh=Cheikh",
        "maHmuud=Mahmoud#hmd",
        "cumar=Omar",
        "al-Habiib=Lahbib",
        "caliy=Ely",
        "'ibraahiim=Brahim",
        "cuthmaan=Ethmane",
        "al-muSTafaa=Moustapha",
        "yaHyaa=Yahya",
        "saalim=Salem",
        "al-mukhtaar=Mokhtar",
        "Taalib=Taleb",
        "Hamdii=Hamdi",
        "al-bukhaarii=Boukhary",
        "Hamaadii=Hamadi",
        "saciid=Saïd",
        "mubaarak=Mbarek",
        "cabd al-raHmaan=Abderrahmane#abd",
        "cabd al-qaadir=Abdelkader#abd",
        "cabd al-kariim=Abdelkarim#abd",
        "'ismaaciil=Ismaïl",
        "Haamid=Hamid#hmd",
        "al-Hasan=Hassane#twin",
        "al-Husayn=Houssein#twin",
    ),
    "songhai": _pool(
        "muusaa=Moussa",
        "haaruuna=Harouna",
        "al-Hasan=Alassane#twin",
        "sulaymaan=Souleymane",
        "*bureyma=Boureima",
        "maHamaan=Mahamane",
        "*garba=Garba",
        "*'alkaaya=Alkaya",
        "*Hamadu=Hamadou",
        "ciisaa=Issa",
        "*'abdulaay=Abdoulaye|cabdallaah=Abdallah",
        "al-muSTafaa=Almoustapha",
        "yaakuuba=Yacouba",
        "*Haliidu=Halidou",
        "*cumaru=Oumarou|cumar=Oumar",
        "'ibraahiim=Ibrahim",
        "*sayduu=Seydou",
        "*soumaana=Soumana",
        "*jibriilla=Djibrilla|jibriil=Djibril",
        "*mahamaduu=Mahamadou|muHammad=Mohamed",
        "*'ismaaciila=Ismaïla|'ismaaciil=Ismaïl",
        "baabaa=Baba",
        "*Hamiidu=Hamidou",
        "*'aliyu=Aliou|caliy=Ali",
        "*nuuhu=Nouhou",
        "'abuubakar=Aboubacar",
        "Hamma=Hama",
        "al-Husayn=Alhousseyni#twin",
        "*'amadu=Amadou|'aHmad=Ahmed",
        "*sanda=Sanda",
    ),
    "fulani": _pool(
        "*Hamadun=Hamadoun",
        "*'amadu=Amadou|'aHmad=Ahmed",
        "*bokar=Bocar",
        "*Haamidu=Hamidou",
        "*bubakar=Boubacar|'abuubakr=Aboubakr",
        "*samba=Samba",
        "*demba=Demba",
        "*cumaru=Oumarou|cumar=Oumar",
        "*'allaay=Allaye",
        "*sambo=Sambo",
        "*yaaya=Yaya",
        "*seeku=Sékou",
        "*maamuudu=Mamoudou|maHmuud=Mahmoud",
        "*'abdulaay=Abdoulaye|cabdallaah=Abdallah",
        "*Hasana=Hassana",
        "*'aljuuma=Aldiouma",
        "cuthmaan=Ousmane",
        "*'aliyu=Aliou",
        "Hamma=Hamma",
        "muusaa=Moussa",
        "*'ibraahiima=Ibrahima|'ibraahiim=Ibrahim",
        "*'ismaaciila=Ismaïla",
        "*buubu=Boubou",
        "sulaymaan=Souleymane",
        "*hammadi=Hammadi",
        "al-Hasan=Hassane#twin",
        "al-Husayn=Housseini#twin",
    ),
    "bambara": _pool(
        "*bakari=Bakary",
        "*seeku=Sékou",
        "*drisa=Drissa",
        "*siyaka=Siaka",
        "*lasana=Lassana#twin",
        "muusaa=Moussa",
        "*'adama=Adama",
        "*mamadu=Mamadou",
        "yaakuuba=Yacouba",
        "*maadu=Madou",
        "*zumana=Zoumana",
        "*fuseyni=Fousseyni#twin",
        "sulaymaan=Souleymane",
        "*breehima=Bréhima",
        "*dawuuda=Daouda",
        "kariim=Karim",
        "*tyemoko=Tiémoko",
        "*draamaan=Dramane",
        "*mori=Mory",
        "*burama=Bourama",
        "*sidiki=Sidiki",
        "*famusa=Famoussa",
        "*bala=Bala",
        "*yusufu=Youssoufou",
        "*lamin=Lamine",
        "*kasum=Kassoum",
        "*maamadi=Mamadi",
    ),
}

WOMEN: dict[Ethnicity, tuple[Name, ...]] = {
    "tuareg": _pool(
        "*faadimata=Fadimata|faaTima=Fatima",
        "*miina=Mina",
        "lalla=Lalla",
        "Taahira=Tahara",
        "zahraa=Zahra",
        "khadiija=Khadija",
        "caa'isha=Aïcha",
        "'aamina=Amina",
        "*tinhinan=Tinhinane",
        "*takiya=Takiya",
        "*tafa=Tafa",
        "mariyam=Mariam",
        "Haliima=Halima",
        "salma=Salma",
        "*tata=Tata",
        "caziiza=Aziza",
        "*tuhaa=Touha",
        "*fanna=Fanna",
    ),
    "arab": _pool(
        "faaTima=Fatma",
        "mariyam=Mariem",
        "caa'isha=Aïcha",
        "khadiija=Khadija",
        "zaynab=Zeinab",
        "salma=Selma",
        "lalla=Lalla",
        "Hawaa=Hawa",
        "saalka=Salka",
        "Haliima=Halima",
        "'aamina=Amina",
        "ruqayya=Rokaya",
        "maymuuna=Maïmouna",
        "*tekber=Tekber",
        "cayshatu=Aichetou",
    ),
    "songhai": _pool(
        "*faaTimata=Fatoumata|faaTima=Fatima",
        "*'aysata=Aïssata|caa'isha=Aïcha",
        "mariyam=Mariam",
        "*haawa=Hawa",
        "*'aminata=Aminata|'aamina=Amina",
        "*kadiija=Kadidia|khadiija=Khadija",
        "*zeynabu=Zeinabou|zaynab=Zeinab",
        "*saafiyatu=Safiatou",
        "*ramatu=Ramatou",
        "*salamatu=Salamatou",
        "*nana=Nana",
        "*jeneba=Djénéba",
        "*'umu=Oumou",
        "*takiyatu=Takiyatou",
        "*ruqiya=Rokia",
        "*Habsatu=Habsatou",
    ),
    "fulani": _pool(
        "*faaTimata=Fatoumata|faaTima=Fatima",
        "*'aysata=Aïssata",
        "mariyam=Mariam",
        "*kadija=Kadidia",
        "*haawa=Hawa",
        "*'umu=Oumou",
        "*raamata=Ramata",
        "*jeneba=Djénéba",
        "*'aminata=Aminata",
        "*penda=Penda",
        "*kumba=Coumba",
        "*daado=Dado",
        "*salamata=Salamata",
        "*fanta=Fanta",
        "*hadijatu=Hadiatou",
    ),
    "bambara": _pool(
        "*faaTimata=Fatoumata",
        "*'aminata=Aminata",
        "mariyam=Mariam",
        "*kajatu=Kadiatou",
        "*jeneba=Djénéba",
        "*'asitan=Assitan",
        "*saliimata=Salimata",
        "*fanta=Fanta",
        "*bintu=Bintou",
        "*nana=Nana",
        "*korotumu=Korotoumou",
        "*sitan=Sitan",
        "*'awa=Awa",
        "*rokiya=Rokia",
        "*'umu=Oumou",
        "*teniin=Tenin",
        "*mayimuna=Maïmouna",
    ),
}

FAMILIES: dict[Ethnicity, tuple[Name, ...]] = {
    "songhai": _pool(
        "*maayga=Maïga",
        "*tuure=Touré",
        "*sisse=Cissé",
        "Haydara=Haïdara",
        "*yattara=Yattara",
        "*tandina=Tandina",
        "*jiteye=Djitèye",
        "*'askofaare=Ascofaré",
        "*koyta=Koïta",
        "*bonkana=Boncana",
        "*sankaare=Sankaré",
        "*traore=Traoré",
        "*dikko=Dicko",
        "*waangara=Wangara",
        "carabii=Arby",
        "*Hamadaabi=Hamadabi",
    ),
    "fulani": _pool(
        "*jallo=Diallo",
        "*barri=Barry",
        "*dikko=Dicko",
        "*sisse=Cissé",
        "*sangaare=Sangaré",
        "*sidibe=Sidibé",
        "*baa=Bah",
        "*sow=Sow",
        "*tal=Tall",
        "*boli=Boly",
        "*sii=Sy",
        "*lii=Ly",
        "*kaan=Kane",
        "*tambura=Tamboura",
        "*jaw=Diaw",
    ),
    "bambara": _pool(
        "*kulibali=Coulibaly",
        "*traore=Traoré",
        "*keyta=Keïta",
        "*jarra=Diarra",
        "*konate=Konaté",
        "*dembele=Dembélé",
        "*kone=Koné",
        "*sanogo=Sanogo",
        "*dumbiya=Doumbia",
        "*samake=Samaké",
        "*jakite=Diakité",
        "*mariko=Mariko",
        "*bagayoko=Bagayoko",
        "*sisoko=Sissoko",
        "*fofana=Fofana",
        "*kante=Kanté",
        "*kamara=Camara",
        "*jabate=Diabaté",
        "*togola=Togola",
        "*berte=Berthé",
        "*ballo=Ballo",
    ),
}

# Regions, cercles and communes (French official names; ``|`` gives other spellings met on lists).
PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    "Kidal": {
        "Kidal": ("Kidal", "Anéfis|Anefif", "Essouk|Es-Souk"),
        "Tessalit": ("Tessalit", "Aguelhok|Aguel-Hoc|Aguelhoc", "Timtaghène|Timtaghen"),
        "Abeïbara": ("Abeïbara|Abeibara", "Boghassa|Boughessa", "Tinzaouatène|Tinzawatene|Tin-Zaouaten"),
        "Tin-Essako": ("Tin-Essako|Tinessako", "Intadjedite|Intedjedit"),
    },
    "Gao": {
        "Gao": ("Gao", "Soni Ali Ber|Sony Aliber", "Anchawadi", "Gounzoureye|Gounzourey", "N'Tillit|Ntillit"),
        "Ansongo": ("Ansongo", "Ouattagouna|Wattagouna", "Talataye|Talatay", "Tin-Hama|Tinhama", "Bara"),
        "Bourem": ("Bourem", "Bamba", "Téméra|Temera", "Taboye", "Tarkint|Tarkinte"),
    },
    "Tombouctou": {
        "Tombouctou": ("Tombouctou", "Ber|Bèr", "Alafia", "Bourem-Inaly|Bourem Inaly", "Lafia"),
        "Goundam": ("Goundam", "Tonka", "Douékiré|Douekire", "Essakane|Es-Sakane", "Raz-El-Ma|Ras El Ma"),
        "Diré": ("Diré|Dire", "Arham", "Tienkour|Tinkour"),
        "Gourma-Rharous": ("Gourma-Rharous|Gourma Rharous", "Gossi", "Inadiatafane", "Hanzakoma"),
        "Niafunké": ("Niafunké|Niafunke", "Léré|Lere", "Soboundou"),
    },
    "Ménaka": {
        "Ménaka": ("Ménaka|Menaka", "Inékar|Inekar", "Alata", "Tidermène|Tidermene"),
        "Andéramboukane": ("Andéramboukane|Anderamboukane|Andéraboukane",),
    },
    "Taoudéni": {
        "Taoudéni": ("Taoudéni|Taoudenni", "Foum-Elba|Foum Elba"),
        "Arawane": ("Arawane|Araouane",),
        "Achouratt": ("Achouratt|Achourat",),
    },
    "Mopti": {
        "Mopti": ("Mopti", "Sio", "Socoura|Sokoura", "Fatoma"),
        "Douentza": ("Douentza", "Boni", "Hombori", "Haïré|Haire"),
        "Ténenkou": ("Ténenkou|Tenenkou", "Diafarabé|Diafarabe", "Togoré-Coumbé|Togore Coumbe"),
        "Youwarou": ("Youwarou|Youvarou", "Dirma", "Deboye"),
    },
}


@dataclass(frozen=True)
class Conventions:
    """How one movement's clerks fill a list: the columns its form has, and how names are written."""

    styles: tuple[tuple[Literal["french", "english", "national"], float], ...]
    arabic_also: float  # rows giving the Arabic-script name beside the Latin one
    arabic_only: float  # rows giving the name in Arabic script only
    family_first: float  # rows written NAME Given (the administration's order)
    upper_family: float  # rows with the family name (or Ag/Ould and father's name) in capitals
    year_column: bool  # the form asks for the year of birth only
    placeholder_day: float  # of people who do not know their birth date: written 1 January (or 31 December)
    commune: bool  # the form has these columns (each sometimes left blank)
    father: bool  # "fils de"
    mother: bool  # "et de"
    birth_place: bool


@dataclass(frozen=True)
class Movement:
    code: str
    coalition: str
    people: tuple[tuple[Ethnicity, float], ...]
    regions: tuple[tuple[str, float], ...]
    conventions: Conventions


def _conventions(**values: object) -> Conventions:
    base: dict[str, object] = {
        "styles": (("french", 0.85), ("english", 0.15)),
        "arabic_also": 0.1,
        "arabic_only": 0.02,
        "family_first": 0.2,
        "upper_family": 0.3,
        "year_column": False,
        "placeholder_day": 0.5,
        "commune": True,
        "father": True,
        "mother": True,
        "birth_place": True,
    }
    base.update(values)
    return Conventions(**base)  # type: ignore[arg-type]


MOVEMENTS: tuple[Movement, ...] = (
    Movement(
        "MNLA",
        "CMA",
        (("tuareg", 0.85), ("arab", 0.1), ("songhai", 0.05)),
        (("Kidal", 0.5), ("Gao", 0.2), ("Tombouctou", 0.2), ("Ménaka", 0.1)),
        _conventions(arabic_also=0.15, family_first=0.1),
    ),
    Movement(
        "HCUA",
        "CMA",
        (("tuareg", 0.9), ("arab", 0.1)),
        (("Kidal", 0.6), ("Tombouctou", 0.2), ("Gao", 0.1), ("Ménaka", 0.1)),
        _conventions(arabic_also=0.35, arabic_only=0.05, mother=False),
    ),
    Movement(
        "MAA-CMA",
        "CMA",
        (("arab", 0.9), ("tuareg", 0.1)),
        (("Tombouctou", 0.6), ("Gao", 0.2), ("Taoudéni", 0.2)),
        _conventions(
            styles=(("french", 0.5), ("english", 0.5)), arabic_also=0.4, arabic_only=0.3, birth_place=False
        ),
    ),
    Movement(
        "GATIA",
        "Plateforme",
        (("tuareg", 0.85), ("arab", 0.1), ("songhai", 0.05)),
        (("Gao", 0.4), ("Ménaka", 0.3), ("Kidal", 0.2), ("Tombouctou", 0.1)),
        _conventions(family_first=0.5, upper_family=0.6, year_column=True, mother=False, birth_place=False),
    ),
    Movement(
        "MAA-PF",
        "Plateforme",
        (("arab", 0.85), ("songhai", 0.1), ("tuareg", 0.05)),
        (("Gao", 0.5), ("Tombouctou", 0.4), ("Taoudéni", 0.1)),
        _conventions(
            styles=(("french", 0.6), ("english", 0.4)), arabic_also=0.3, arabic_only=0.2, commune=False
        ),
    ),
    Movement(
        "CMFPR",
        "Plateforme",
        (("songhai", 0.55), ("fulani", 0.35), ("bambara", 0.1)),
        (("Gao", 0.4), ("Tombouctou", 0.3), ("Mopti", 0.3)),
        _conventions(
            styles=(("french", 0.85), ("national", 0.15)),
            arabic_also=0.0,
            arabic_only=0.0,
            family_first=0.6,
            upper_family=0.7,
            placeholder_day=0.7,
        ),
    ),
    Movement(
        "CPA",
        "Inclusivité",
        (("tuareg", 0.6), ("arab", 0.3), ("songhai", 0.1)),
        (("Kidal", 0.3), ("Gao", 0.3), ("Tombouctou", 0.4)),
        _conventions(year_column=True, father=False, mother=False),
    ),
    Movement(
        "MSA",
        "Inclusivité",
        (("tuareg", 0.9), ("arab", 0.05), ("fulani", 0.05)),
        (("Ménaka", 0.8), ("Gao", 0.2)),
        _conventions(styles=(("french", 0.7), ("english", 0.3)), mother=False, birth_place=False),
    ),
    Movement(
        "CJA",
        "Inclusivité",
        (("tuareg", 0.7), ("arab", 0.2), ("songhai", 0.1)),
        (("Tombouctou", 0.8), ("Gao", 0.2)),
        _conventions(arabic_also=0.2, commune=False),
    ),
)
