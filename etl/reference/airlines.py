"""Airline ICAO code -> name and country, for the world's major passenger, cargo and business operators, and the
State operators (air forces, navies) the captures show.

Source: the project's own table ("project airline table"), written from the operators' public ICAO designators
and home countries (where the airline holds its air operator certificate; for multinational groups, where it
is headquartered, e.g. SAS -> Sweden). FR24's airline list gives names but no country. This table is the
authority for the airlines it lists; any other airline takes the country of registration of its aircraft seen
in the same snapshot (`etl.transform.enrich.airline_countries_from_registrations`), and one with no clear majority there
has no known country: it still counts in the airline rankings but is left out of the per-airline-country KPI.

`LEASED_FLEETS` lists airlines whose aircraft fly under another flag (leased, wet-leased or a sister company's
aircraft), so that their registrations would give the wrong country or none; each was seen in real captures.
Country names are read by `country_converter` (`etl.reference.countries`), which gives their output spelling.
"""

from __future__ import annotations

from etl.reference.tables import parse_grouped

_BY_COUNTRY: dict[str, str] = {
    "United States": """
AAL:American Airlines|DAL:Delta Air Lines|UAL:United Airlines|SWA:Southwest Airlines|ASA:Alaska Airlines|
JBU:JetBlue Airways|NKS:Spirit Airlines|FFT:Frontier Airlines|HAL:Hawaiian Airlines|AAY:Allegiant Air|
SKW:SkyWest Airlines|RPA:Republic Airways|ENY:Envoy Air|EDV:Endeavor Air|JIA:PSA Airlines|ASH:Mesa Airlines|
PDT:Piedmont Airlines|QXE:Horizon Air|SCX:Sun Country Airlines|MXY:Breeze Airways|VXP:Avelo Airlines|
GJS:GoJet Airlines|AWI:Air Wisconsin|FDX:FedEx Express|UPS:UPS Airlines|GTI:Atlas Air|ABX:ABX Air|
CKS:Kalitta Air|PAC:Polar Air Cargo|EJA:NetJets|LXJ:Flexjet""",
    "Canada": """
ACA:Air Canada|ROU:Air Canada Rouge|JZA:Jazz Aviation|WJA:WestJet|WEN:WestJet Encore|TSC:Air Transat|
POE:Porter Airlines|SWG:Sunwing Airlines|FLE:Flair Airlines""",
    "Mexico": "AMX:Aeroméxico|SLI:Aeroméxico Connect|VOI:Volaris|VIV:Viva Aerobus",
    "Panama": "CMP:Copa Airlines",
    "Trinidad and Tobago": "BWA:Caribbean Airlines",
    "Bahamas": "BHS:Bahamasair",
    "Colombia": "AVA:Avianca",
    "Chile": "LAN:LATAM Airlines|SKU:Sky Airline|JAT:JetSMART",
    "Brazil": "TAM:LATAM Airlines Brasil|GLO:Gol Linhas Aéreas|AZU:Azul Brazilian Airlines",
    "Argentina": "ARG:Aerolíneas Argentinas|FBZ:Flybondi",
    "Peru": "LPE:LATAM Airlines Peru",
    "Bolivia": "BOV:Boliviana de Aviación",
    "France": "AFR:Air France|HOP:Air France Hop|TVF:Transavia France",
    "Netherlands": """
KLM:KLM Royal Dutch Airlines|KLC:KLM Cityhopper|TRA:Transavia|MPH:Martinair|TFL:TUI fly Netherlands""",
    "Germany": """
DLH:Lufthansa|CLH:Lufthansa CityLine|GEC:Lufthansa Cargo|EWG:Eurowings|CFG:Condor|TUI:TUIfly|BOX:AeroLogic|
BCS:European Air Transport Leipzig""",
    "United Kingdom": """
BAW:British Airways|EZY:easyJet|VIR:Virgin Atlantic|EXS:Jet2.com|TOM:TUI Airways|LOG:Loganair|
RUK:Ryanair UK|WUK:Wizz Air UK|DHK:DHL Air UK""",
    "Ireland": "RYR:Ryanair|EIN:Aer Lingus|BCY:CityJet",
    "Austria": "AUA:Austrian Airlines|EJU:easyJet Europe",
    "Switzerland": "SWR:Swiss International Air Lines|EZS:easyJet Switzerland",
    "Spain": "IBE:Iberia|IBS:Iberia Express|VLG:Vueling|AEA:Air Europa|ANE:Air Nostrum|VOE:Volotea",
    "Portugal": "TAP:TAP Air Portugal|NJE:NetJets Europe",
    "Italy": "ITY:ITA Airways|DLA:Air Dolomiti",
    "Belgium": "BEL:Brussels Airlines|JAF:TUI fly Belgium",
    "Luxembourg": "LGL:Luxair|CLX:Cargolux",
    "Sweden": "SAS:Scandinavian Airlines|NSZ:Norwegian Air Sweden|BLX:TUIfly Nordic",
    "Norway": "NAX:Norwegian Air Shuttle",
    "Finland": "FIN:Finnair",
    "Iceland": "ICE:Icelandair",
    "Poland": "LOT:LOT Polish Airlines|ENT:Enter Air",
    "Hungary": "WZZ:Wizz Air",
    "Malta": "WMT:Wizz Air Malta|LDM:Lauda Europe|MAY:Malta Air|VJT:VistaJet",
    "Czechia": "CSA:Czech Airlines",
    "Greece": "AEE:Aegean Airlines|OAL:Olympic Air",
    "Latvia": "BTI:airBaltic",
    "Romania": "ROT:TAROM",
    "Croatia": "CTN:Croatia Airlines",
    "Serbia": "ASL:Air Serbia",
    "Ukraine": "AUI:Ukraine International Airlines",
    "Belarus": "BRU:Belavia",
    "Russia": "AFL:Aeroflot|SBI:S7 Airlines|SDM:Rossiya Airlines|UTA:UTair|PBD:Pobeda|ABW:AirBridgeCargo",
    "Turkey": "THY:Turkish Airlines|PGT:Pegasus Airlines|SXS:SunExpress|AJA:AJet|CAI:Corendon Airlines",
    "Israel": "ELY:El Al",
    "United Arab Emirates": "UAE:Emirates|ETD:Etihad Airways|FDB:flydubai|ABY:Air Arabia",
    "Qatar": "QTR:Qatar Airways",
    "Saudi Arabia": "SVA:Saudia|KNE:flynas",
    "Bahrain": "GFA:Gulf Air",
    "Oman": "OMA:Oman Air",
    "Kuwait": "KAC:Kuwait Airways",
    "Jordan": "RJA:Royal Jordanian",
    "Lebanon": "MEA:Middle East Airlines",
    "Iran": "IRA:Iran Air",
    "Iraq": "IAW:Iraqi Airways",
    "Kazakhstan": "KZR:Air Astana",
    "Uzbekistan": "UZB:Uzbekistan Airways",
    "Azerbaijan": "AHY:Azerbaijan Airlines",
    "Mongolia": "MGL:MIAT Mongolian Airlines",
    "China": """
CCA:Air China|CES:China Eastern Airlines|CSN:China Southern Airlines|CHH:Hainan Airlines|CSZ:Shenzhen Airlines|
CXA:Xiamen Airlines|CSC:Sichuan Airlines|CQH:Spring Airlines|CDG:Shandong Airlines|DKH:Juneyao Air|
CSH:Shanghai Airlines|GCR:Tianjin Airlines|CBJ:Beijing Capital Airlines|LKE:Lucky Air|CAO:Air China Cargo|
CKK:China Cargo Airlines""",
    "Hong Kong": "CPA:Cathay Pacific|HKE:HK Express|CRK:Hong Kong Airlines",
    "Macao": "AMU:Air Macau",
    "Taiwan": "CAL:China Airlines|EVA:EVA Air|TTW:Tigerair Taiwan|SJX:Starlux Airlines",
    "Japan": """
JAL:Japan Airlines|ANA:All Nippon Airways|APJ:Peach Aviation|JJP:Jetstar Japan|SKY:Skymark Airlines|
NCA:Nippon Cargo Airlines""",
    "South Korea": """
KAL:Korean Air|AAR:Asiana Airlines|JNA:Jin Air|JJA:Jeju Air|TWB:T'way Air|ABL:Air Busan|ESR:Eastar Jet""",
    "Singapore": "SIA:Singapore Airlines|TGW:Scoot|SQC:Singapore Airlines Cargo",
    "Malaysia": "MAS:Malaysia Airlines|AXM:AirAsia",
    "Thailand": "THA:Thai Airways|AIQ:Thai AirAsia|TLM:Thai Lion Air|BKP:Bangkok Airways|NOK:Nok Air",
    "Vietnam": "HVN:Vietnam Airlines|VJC:VietJet Air|BAV:Bamboo Airways",
    "Philippines": "PAL:Philippine Airlines|CEB:Cebu Pacific",
    "Indonesia": "GIA:Garuda Indonesia|LNI:Lion Air|BTK:Batik Air|CTV:Citilink|AWQ:Indonesia AirAsia",
    "Brunei": "RBA:Royal Brunei Airlines",
    "India": "AIC:Air India|IGO:IndiGo|SEJ:SpiceJet|AKJ:Akasa Air|AXB:Air India Express",
    "Pakistan": "PIA:Pakistan International Airlines",
    "Sri Lanka": "ALK:SriLankan Airlines",
    "Bangladesh": "BBC:Biman Bangladesh Airlines",
    "Nepal": "RNA:Nepal Airlines",
    "Australia": "QFA:Qantas|QLK:QantasLink|VOZ:Virgin Australia|JST:Jetstar Airways|RXA:Regional Express",
    "New Zealand": "ANZ:Air New Zealand",
    "Fiji": "FJI:Fiji Airways",
    "Papua New Guinea": "ANG:Air Niugini",
    "New Caledonia": "ACI:Aircalin",
    "French Polynesia": "THT:Air Tahiti Nui",
    "Ethiopia": "ETH:Ethiopian Airlines",
    "Egypt": "MSR:EgyptAir",
    "Morocco": "RAM:Royal Air Maroc",
    "South Africa": "SAA:South African Airways|SFR:Safair",
    "Kenya": "KQA:Kenya Airways",
    "Algeria": "DAH:Air Algérie",
    "Tunisia": "TAR:Tunisair",
    "Rwanda": "RWD:RwandAir",
    "Mozambique": "LAM:LAM Mozambique Airlines",
    "Tanzania": "ATC:Air Tanzania",
    "Mauritius": "MAU:Air Mauritius",
    "Nigeria": "ARA:Arik Air",
    "Angola": "DTA:TAAG Angola Airlines",
    "Madagascar": "MDG:Air Madagascar",
    "Seychelles": "SEY:Air Seychelles",
}


# State (military and government) operators seen in the captures of July 2025. Their aircraft carry military
# serials (61-0290, 165314, FAB3702, MM62298 ...), not civil registrations: without a transponder address nothing
# else places them. ICAO designators and the State each flies for.
_STATE_OPERATORS: dict[str, str] = {
    "United States": "RCH:US Air Force Air Mobility Command|CNV:US Navy",
    "Canada": "CFC:Canadian Armed Forces",
    "Brazil": "BRS:Brazilian Air Force",
    "Colombia": "FAC:Colombian Aerospace Force",
    "Italy": "IAM:Italian Air Force",
    "Greece": "HAF:Hellenic Air Force",
    "Poland": "PLF:Polish Air Force",
    "United Arab Emirates": "UAF:United Arab Emirates Air Force",
    "India": "IFC:Indian Air Force",
    "Australia": "ASY:Royal Australian Air Force",
}


# Airlines whose registrations point elsewhere: ICAO -> (name, country, what the captures of July 2025 showed).
LEASED_FLEETS: dict[str, tuple[str, str, str]] = {
    "ABR": ("ASL Airlines Ireland", "Ireland", "its Boeing 747-400Fs are Austrian-registered (OE-IF.)"),
    "HFY": ("Hi Fly", "Portugal", "most aircraft are its Maltese sister's (9H-), one Portuguese (CS-)"),
    "SRR": ("Star Air", "Denmark", "Danish 777Fs (OY-MA.) beside a US-registered 767 (N-)"),
    "NOS": ("Neos", "Italy", "its Boeing 787s are Irish-registered (EI-)"),
    "NBT": ("Norse Atlantic Airways", "Norway", "Norwegian 787s beside its UK arm's (G-): no two-thirds majority"),
    "NOZ": ("Norwegian Air Norway", "Norway", "flies Norwegian Air Sweden's aircraft (SE-)"),
    "LCO": ("LATAM Cargo Chile", "Chile", "Chilean, US and Brazilian 767Fs: no two-thirds majority"),
    "AZG": ("Silk Way West Airlines", "Azerbaijan", "Azerbaijani 747s beside Bermuda-registered ones (VQ-B)"),
    "XAX": ("AirAsia X", "Malaysia", "Malaysian A330s beside Thai AirAsia X's (HS-)"),
    "EVE": ("Evelop Airlines", "Spain", "Spanish aircraft beside its Portuguese sister Orbest's (CS-)"),
    "WFL": ("World2fly", "Spain", "Spanish aircraft beside World2fly Portugal's (CS-)"),
}

AIRLINES: dict[str, tuple[str, str]] = {
    **parse_grouped(_BY_COUNTRY, "airline"),
    **parse_grouped(_STATE_OPERATORS, "state operator"),
    **{icao: (name, country) for icao, (name, country, _) in LEASED_FLEETS.items()},
}
"""Airline ICAO designator -> (name, country)."""

SOURCE = f"project airline table ({len(AIRLINES)} airlines, ICAO designators and home countries)"
assert not set(LEASED_FLEETS) & set(parse_grouped(_BY_COUNTRY, "airline")), "an airline listed twice"
assert not set(parse_grouped(_STATE_OPERATORS, "")) & set(parse_grouped(_BY_COUNTRY, "")), "an operator listed twice"
