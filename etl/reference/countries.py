"""Country -> continent: every ISO 3166-1 alpha-2 code (plus XK, Kosovo) and the country names FR24 uses.

Source: the project's own table, written from ISO 3166-1 (codes, short names) and the UN M49 geoscheme
(regions). Rule for a country's one continent: its UN M49 region, with the Americas split into North America
(Northern America, Central America, the Caribbean) and South America, and Antarctica kept apart. So the
countries that span two continents follow M49: Russia -> Europe, Turkey -> Asia, Kazakhstan -> Asia,
Egypt -> Africa, Georgia / Armenia / Azerbaijan / Cyprus -> Asia, Indonesia -> Asia, Panama -> North America.
Lookups are case-insensitive and accept accented or plain spellings (see `country_aliases`).
"""

from __future__ import annotations

import unicodedata

from etl.columns import CONTINENTS
from etl.reference.tables import parse_grouped

_BY_CONTINENT: dict[str, str] = {
    "Africa": """
DZ:Algeria|AO:Angola|BJ:Benin|BW:Botswana|BF:Burkina Faso|BI:Burundi|CV:Cabo Verde|CM:Cameroon|
CF:Central African Republic|TD:Chad|KM:Comoros|CG:Congo|CD:DR Congo|CI:Côte d'Ivoire|DJ:Djibouti|EG:Egypt|
GQ:Equatorial Guinea|ER:Eritrea|SZ:Eswatini|ET:Ethiopia|GA:Gabon|GM:Gambia|GH:Ghana|GN:Guinea|GW:Guinea-Bissau|
KE:Kenya|LS:Lesotho|LR:Liberia|LY:Libya|MG:Madagascar|MW:Malawi|ML:Mali|MR:Mauritania|MU:Mauritius|YT:Mayotte|
MA:Morocco|MZ:Mozambique|NA:Namibia|NE:Niger|NG:Nigeria|RE:Réunion|RW:Rwanda|SH:Saint Helena|
ST:Sao Tome and Principe|SN:Senegal|SC:Seychelles|SL:Sierra Leone|SO:Somalia|ZA:South Africa|SS:South Sudan|
SD:Sudan|TZ:Tanzania|TG:Togo|TN:Tunisia|UG:Uganda|EH:Western Sahara|ZM:Zambia|ZW:Zimbabwe|
IO:British Indian Ocean Territory|TF:French Southern Territories""",
    "Antarctica": "AQ:Antarctica",
    "Asia": """
AF:Afghanistan|AM:Armenia|AZ:Azerbaijan|BH:Bahrain|BD:Bangladesh|BT:Bhutan|BN:Brunei|KH:Cambodia|CN:China|
CY:Cyprus|GE:Georgia|HK:Hong Kong|IN:India|ID:Indonesia|IR:Iran|IQ:Iraq|IL:Israel|JP:Japan|JO:Jordan|
KZ:Kazakhstan|KW:Kuwait|KG:Kyrgyzstan|LA:Laos|LB:Lebanon|MO:Macao|MY:Malaysia|MV:Maldives|MN:Mongolia|
MM:Myanmar|NP:Nepal|KP:North Korea|OM:Oman|PK:Pakistan|PS:Palestine|PH:Philippines|QA:Qatar|SA:Saudi Arabia|
SG:Singapore|KR:South Korea|LK:Sri Lanka|SY:Syria|TW:Taiwan|TJ:Tajikistan|TH:Thailand|TL:Timor-Leste|
TR:Turkey|TM:Turkmenistan|AE:United Arab Emirates|UZ:Uzbekistan|VN:Vietnam|YE:Yemen""",
    "Europe": """
AX:Åland Islands|AL:Albania|AD:Andorra|AT:Austria|BY:Belarus|BE:Belgium|BA:Bosnia and Herzegovina|BG:Bulgaria|
HR:Croatia|CZ:Czechia|DK:Denmark|EE:Estonia|FO:Faroe Islands|FI:Finland|FR:France|DE:Germany|GI:Gibraltar|
GR:Greece|GG:Guernsey|HU:Hungary|IS:Iceland|IE:Ireland|IM:Isle of Man|IT:Italy|JE:Jersey|XK:Kosovo|LV:Latvia|
LI:Liechtenstein|LT:Lithuania|LU:Luxembourg|MT:Malta|MD:Moldova|MC:Monaco|ME:Montenegro|NL:Netherlands|
MK:North Macedonia|NO:Norway|PL:Poland|PT:Portugal|RO:Romania|RU:Russia|SM:San Marino|RS:Serbia|SK:Slovakia|
SI:Slovenia|ES:Spain|SJ:Svalbard and Jan Mayen|SE:Sweden|CH:Switzerland|UA:Ukraine|GB:United Kingdom|
VA:Vatican City""",
    "North America": """
AI:Anguilla|AG:Antigua and Barbuda|AW:Aruba|BS:Bahamas|BB:Barbados|BZ:Belize|BM:Bermuda|
BQ:Caribbean Netherlands|VG:British Virgin Islands|CA:Canada|KY:Cayman Islands|CR:Costa Rica|CU:Cuba|
CW:Curaçao|DM:Dominica|DO:Dominican Republic|SV:El Salvador|GL:Greenland|GD:Grenada|GP:Guadeloupe|
GT:Guatemala|HT:Haiti|HN:Honduras|JM:Jamaica|MQ:Martinique|MX:Mexico|MS:Montserrat|NI:Nicaragua|PA:Panama|
PR:Puerto Rico|BL:Saint Barthélemy|KN:Saint Kitts and Nevis|LC:Saint Lucia|MF:Saint Martin|
PM:Saint Pierre and Miquelon|VC:Saint Vincent and the Grenadines|SX:Sint Maarten|TT:Trinidad and Tobago|
TC:Turks and Caicos Islands|US:United States|VI:U.S. Virgin Islands""",
    "South America": """
AR:Argentina|BO:Bolivia|BR:Brazil|CL:Chile|CO:Colombia|EC:Ecuador|FK:Falkland Islands|GF:French Guiana|
GY:Guyana|PY:Paraguay|PE:Peru|SR:Suriname|UY:Uruguay|VE:Venezuela|BV:Bouvet Island|
GS:South Georgia and the South Sandwich Islands""",
    "Oceania": """
AS:American Samoa|AU:Australia|CX:Christmas Island|CC:Cocos (Keeling) Islands|CK:Cook Islands|FJ:Fiji|
PF:French Polynesia|GU:Guam|HM:Heard Island and McDonald Islands|KI:Kiribati|MH:Marshall Islands|
FM:Micronesia|NR:Nauru|NC:New Caledonia|NZ:New Zealand|NU:Niue|NF:Norfolk Island|MP:Northern Mariana Islands|
PW:Palau|PG:Papua New Guinea|PN:Pitcairn Islands|WS:Samoa|SB:Solomon Islands|TK:Tokelau|TO:Tonga|TV:Tuvalu|
UM:U.S. Minor Outlying Islands|VU:Vanuatu|WF:Wallis and Futuna""",
}

# Other spellings seen in FR24's airport and airline lists, and common official or former names.
_ALIASES: dict[str, str] = {
    "US": "United States|USA|United States of America|U.S.A.",
    "GB": "UK|Great Britain|United Kingdom of Great Britain and Northern Ireland",
    "RU": "Russian Federation",
    "KR": "Korea|Republic of Korea|Korea, Republic of|Korea (South)",
    "KP": "Democratic People's Republic of Korea|Korea (North)",
    "CZ": "Czech Republic",
    "CI": "Ivory Coast|Cote D'ivoire|Cote d'Ivoire",
    "CD": "Democratic Republic of the Congo|Democratic Republic Of The Congo|Congo (Kinshasa)|Zaire",
    "CG": "Republic of the Congo|Congo (Brazzaville)|Congo-Brazzaville",
    "MK": "Macedonia|FYROM|Republic of North Macedonia",
    "SZ": "Swaziland",
    "CV": "Cape Verde",
    "MM": "Burma",
    "VN": "Viet Nam",
    "LA": "Lao People's Democratic Republic|Lao PDR",
    "IR": "Islamic Republic of Iran|Iran, Islamic Republic of",
    "SY": "Syrian Arab Republic",
    "TW": "Republic of China|Chinese Taipei",
    "MO": "Macau",
    "BN": "Brunei Darussalam",
    "TL": "East Timor",
    "FM": "Federated States of Micronesia|Micronesia, Federated States of",
    "PS": "Palestinian Territory|State of Palestine",
    "BS": "The Bahamas",
    "GM": "The Gambia",
    "TR": "Türkiye|Turkiye",
    "MD": "Republic of Moldova",
    "BO": "Plurinational State of Bolivia",
    "VE": "Bolivarian Republic of Venezuela",
    "TZ": "United Republic of Tanzania",
    "KN": "St. Kitts and Nevis|Saint Kitts And Nevis",
    "LC": "St. Lucia",
    "VC": "St. Vincent and the Grenadines|Saint Vincent and Grenadines",
    "PM": "St. Pierre and Miquelon",
    "MF": "St. Martin|Saint Martin (French part)",
    "SX": "Sint Maarten (Dutch part)",
    "BL": "St. Barthelemy",
    "SH": "St. Helena|Saint Helena, Ascension and Tristan da Cunha",
    "VI": "US Virgin Islands|Virgin Islands (U.S.)|United States Virgin Islands|Virgin Islands, U.S.",
    "VG": "Virgin Islands (British)|Virgin Islands, British",
    "BQ": "Bonaire|Bonaire, Sint Eustatius and Saba|Netherlands Antilles",
    "FK": "Falkland Islands (Malvinas)",
    "CC": "Cocos Islands",
    "VA": "Vatican|Holy See",
    "ST": "São Tomé and Príncipe",
    "GW": "Guinea Bissau",
    "PN": "Pitcairn",
    "UM": "United States Minor Outlying Islands",
    "AE": "UAE",
    "HK": "Hong Kong SAR",
    "SJ": "Svalbard",
    "WF": "Wallis and Futuna Islands",
    "LY": "Libyan Arab Jamahiriya",
    "CN": "People's Republic of China",
}


COUNTRIES: dict[str, tuple[str, str]] = parse_grouped(_BY_CONTINENT, "country")
"""ISO 3166-1 alpha-2 code (and XK) -> (country name, continent)."""

assert set(c for _, c in COUNTRIES.values()) <= set(CONTINENTS)


def alias_key(text: str) -> str:
    """The lookup key of a country spelling: lower case, accents removed, inner spaces collapsed."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().split())


def country_aliases() -> dict[str, tuple[str, str]]:
    """Every accepted spelling (codes, names, aliases; accented and plain, lower case) -> (country, continent)."""
    aliases: dict[str, tuple[str, str]] = {}
    for code, (name, continent) in COUNTRIES.items():
        spellings = [code, name, *_ALIASES.get(code, "").split("|")]
        for spelling in filter(None, spellings):
            for key in {spelling.lower().strip(), alias_key(spelling)}:
                aliases[key] = (name, continent)
    return aliases
