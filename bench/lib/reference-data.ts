/**
 * What generated facilities are made of: places, kinds of facility, services, labs and the
 * accreditation bodies that accredit each kind. Plausible, not real: the names and addresses are
 * assembled from parts, so no generated record describes an actual facility.
 */
import type { Weighted } from "./random";

export interface Place {
  readonly city: string;
  /** The first three digits of the city's ZIP codes. */
  readonly zip3: string;
}

export interface StateOrTerritory {
  /** Two-letter USPS code. */
  readonly code: string;
  /**
   * Relative number of facilities: roughly the population in hundreds of thousands (2020
   * census), at least 3 so that every code shows up in a file of a few thousand facilities.
   */
  readonly weight: number;
  readonly places: readonly Place[];
}

const place = (city: string, zip3: string): Place => ({ city, zip3 });
const state = (code: string, weight: number, ...places: Place[]): StateOrTerritory => ({ code, weight, places });

/** The 50 states, the District of Columbia and the five inhabited territories. */
export const STATES_AND_TERRITORIES: readonly StateOrTerritory[] = [
  state("AL", 50, place("Birmingham", "352"), place("Montgomery", "361"), place("Mobile", "366")),
  state("AK", 7, place("Anchorage", "995"), place("Fairbanks", "997")),
  state("AZ", 72, place("Phoenix", "850"), place("Tucson", "857"), place("Flagstaff", "860")),
  state("AR", 30, place("Little Rock", "722"), place("Fayetteville", "727")),
  state(
    "CA",
    395,
    place("Los Angeles", "900"),
    place("San Diego", "921"),
    place("San Francisco", "941"),
    place("Sacramento", "958"),
    place("Fresno", "937"),
    place("Oakland", "946"),
  ),
  state("CO", 58, place("Denver", "802"), place("Colorado Springs", "809"), place("Grand Junction", "815")),
  state("CT", 36, place("Hartford", "061"), place("New Haven", "065")),
  state("DE", 10, place("Wilmington", "198"), place("Dover", "199")),
  state("FL", 216, place("Miami", "331"), place("Tampa", "336"), place("Orlando", "328"), place("Jacksonville", "322")),
  state("GA", 107, place("Atlanta", "303"), place("Savannah", "314"), place("Augusta", "309")),
  state("HI", 14, place("Honolulu", "968"), place("Hilo", "967")),
  state("ID", 19, place("Boise", "837"), place("Idaho Falls", "834")),
  state("IL", 128, place("Chicago", "606"), place("Springfield", "627"), place("Peoria", "616")),
  state("IN", 68, place("Indianapolis", "462"), place("Fort Wayne", "468")),
  state("IA", 32, place("Des Moines", "503"), place("Cedar Rapids", "524")),
  state("KS", 29, place("Wichita", "672"), place("Topeka", "666")),
  state("KY", 45, place("Louisville", "402"), place("Lexington", "405")),
  state("LA", 46, place("New Orleans", "701"), place("Baton Rouge", "708")),
  state("ME", 14, place("Portland", "041"), place("Bangor", "044")),
  state("MD", 62, place("Baltimore", "212"), place("Bethesda", "208")),
  state("MA", 70, place("Boston", "021"), place("Worcester", "016"), place("Springfield", "011")),
  state("MI", 101, place("Detroit", "482"), place("Grand Rapids", "495"), place("Ann Arbor", "481")),
  state("MN", 57, place("Minneapolis", "554"), place("Rochester", "559"), place("Duluth", "558")),
  state("MS", 30, place("Jackson", "392"), place("Gulfport", "395")),
  state("MO", 62, place("St. Louis", "631"), place("Kansas City", "641"), place("Springfield", "658")),
  state("MT", 11, place("Billings", "591"), place("Missoula", "598")),
  state("NE", 20, place("Omaha", "681"), place("Lincoln", "685")),
  state("NV", 31, place("Las Vegas", "891"), place("Reno", "895")),
  state("NH", 14, place("Manchester", "031"), place("Concord", "033")),
  state("NJ", 93, place("Newark", "071"), place("Trenton", "086"), place("Camden", "081")),
  state("NM", 21, place("Albuquerque", "871"), place("Santa Fe", "875"), place("Española", "875")),
  state(
    "NY",
    202,
    place("New York", "100"),
    place("Brooklyn", "112"),
    place("Buffalo", "142"),
    place("Albany", "122"),
    place("Rochester", "146"),
  ),
  state("NC", 105, place("Charlotte", "282"), place("Raleigh", "276"), place("Asheville", "288")),
  state("ND", 8, place("Fargo", "581"), place("Bismarck", "585")),
  state("OH", 118, place("Columbus", "432"), place("Cleveland", "441"), place("Cincinnati", "452")),
  state("OK", 40, place("Oklahoma City", "731"), place("Tulsa", "741")),
  state("OR", 42, place("Portland", "972"), place("Eugene", "974"), place("Bend", "977")),
  state("PA", 130, place("Philadelphia", "191"), place("Pittsburgh", "152"), place("Harrisburg", "171")),
  state("RI", 11, place("Providence", "029"), place("Warwick", "028")),
  state("SC", 51, place("Columbia", "292"), place("Charleston", "294")),
  state("SD", 9, place("Sioux Falls", "571"), place("Rapid City", "577")),
  state("TN", 69, place("Nashville", "372"), place("Memphis", "381"), place("Knoxville", "379")),
  state(
    "TX",
    291,
    place("Houston", "770"),
    place("Dallas", "752"),
    place("Austin", "787"),
    place("San Antonio", "782"),
    place("El Paso", "799"),
    place("McAllen", "785"),
  ),
  state("UT", 33, place("Salt Lake City", "841"), place("Provo", "846")),
  state("VT", 6, place("Burlington", "054"), place("Montpelier", "056")),
  state("VA", 86, place("Richmond", "232"), place("Norfolk", "235"), place("Arlington", "222")),
  state("WA", 77, place("Seattle", "981"), place("Spokane", "992"), place("Tacoma", "984")),
  state("WV", 18, place("Charleston", "253"), place("Morgantown", "265")),
  state("WI", 59, place("Milwaukee", "532"), place("Madison", "537")),
  state("WY", 6, place("Cheyenne", "820"), place("Casper", "826")),
  state("DC", 7, place("Washington", "200")),
  state("PR", 33, place("San Juan", "009"), place("Ponce", "007"), place("Mayagüez", "006")),
  state("GU", 3, place("Hagåtña", "969"), place("Dededo", "969")),
  state("VI", 3, place("Charlotte Amalie", "008"), place("Christiansted", "008")),
  state("AS", 3, place("Pago Pago", "967")),
  state("MP", 3, place("Saipan", "969")),
];

export const STREETS: readonly string[] = [
  "Main",
  "Oak",
  "Maple",
  "Cedar",
  "Elm",
  "Washington",
  "Lincoln",
  "Jefferson",
  "Park",
  "Lake",
  "Hill",
  "River",
  "Church",
  "Market",
  "Broadway",
  "Highland",
  "Sunset",
  "Medical Center",
  "University",
  "Fannin",
  "Peachtree",
  "Mission",
  "Colonial",
  "Veterans",
  "Martin Luther King Jr",
  "Ponce de León",
];
export const STREET_SUFFIXES: readonly string[] = ["St", "Ave", "Blvd", "Rd", "Dr", "Way", "Pkwy", "Ln", "Ct"];

/** Name parts other than the city: a facility is called "<part> <kind name>" or "<city> <kind name>". */
export const NAME_PARTS: readonly string[] = [
  "Riverside",
  "Lakeview",
  "Sunrise",
  "Mercy",
  "St. Mary's",
  "St. Luke's",
  "Good Samaritan",
  "Northside",
  "Summit",
  "Valley",
  "Harbor",
  "Pine Ridge",
  "Cedar Grove",
  "Meadowbrook",
  "Unity",
  "Providence",
  "Baptist",
  "Methodist",
  "Presbyterian",
  "Sacred Heart",
  "Hope",
  "Crossroads",
  "Bayfront",
  "Prairie",
  "Blue Ridge",
  "Cascade",
  "Gulf Coast",
  "Lone Star",
  "Pacific Crest",
  "Heartland",
  "Nuestra Señora",
];

export interface AccreditationBody {
  readonly name: string;
  /** The accreditation_id is "<prefix>-<digits>". */
  readonly prefix: string;
  readonly digits: number;
}

const body = (name: string, prefix: string, digits: number): AccreditationBody => ({ name, prefix, digits });
export const TJC = body("The Joint Commission", "TJC", 6);
export const DNV = body("DNV Healthcare", "DNV", 7);
export const ACHC = body("Accreditation Commission for Health Care", "ACHC", 6);
export const CIHQ = body("Center for Improvement in Healthcare Quality", "CIHQ", 5);
export const AAAHC = body("Accreditation Association for Ambulatory Health Care", "AAAHC", 5);
export const COLA = body("COLA", "COLA", 5);
export const CAP = body("College of American Pathologists", "CAP", 7);
export const CARF = body("CARF International", "CARF", 6);
export const ACR = body("American College of Radiology", "ACR", 6);
export const IAC = body("Intersocietal Accreditation Commission", "IAC", 5);
export const QUAD_A = body("Quad A", "QUADA", 5);
export const UCAOA = body("Urgent Care Association", "UCA", 5);

export interface LabKind {
  readonly name: string;
  readonly certifications: readonly string[];
}

const lab = (name: string, ...certifications: string[]): LabKind => ({ name, certifications });
export const LABS = {
  core: lab("Core Clinical Laboratory", "CLIA", "CAP", "ISO 15189"),
  bloodBank: lab("Blood Bank", "AABB", "CLIA"),
  microbiology: lab("Microbiology Lab", "CLIA", "CAP"),
  pathology: lab("Pathology Lab", "CAP", "CLIA"),
  molecular: lab("Molecular Diagnostics Lab", "CLIA", "CAP", "ISO 15189"),
  pointOfCare: lab("Point-of-Care Lab", "CLIA", "COLA"),
  clinic: lab("Clinic Lab", "CLIA", "COLA"),
  toxicology: lab("Toxicology Lab", "CLIA", "CAP"),
  histocompatibility: lab("Histocompatibility Lab", "ASHI", "CLIA"),
} as const;

export interface FacilityKind {
  /** What follows the name part: "Medical Center". */
  readonly names: readonly string[];
  readonly employees: readonly [min: number, max: number];
  readonly services: readonly string[];
  readonly serviceCount: readonly [min: number, max: number];
  readonly labs: readonly LabKind[];
  readonly labCount: readonly [min: number, max: number];
  readonly bodies: readonly AccreditationBody[];
}

const HOSPITAL_SERVICES = [
  "Emergency Care",
  "Surgery",
  "Cardiology",
  "Oncology",
  "Radiology",
  "Maternity",
  "Neurology",
  "Orthopedics",
  "Intensive Care",
  "Pediatrics",
  "Trauma Care",
  "Stroke Care",
  "Dialysis",
  "Rehabilitation",
];
const PRIMARY_CARE_SERVICES = [
  "Primary Care",
  "Pediatrics",
  "Immunizations",
  "Women's Health",
  "Behavioral Health",
  "Dental",
  "Telehealth",
  "Chronic Disease Management",
];

/** Kinds of facility and how common each is (weights). */
export const FACILITY_KINDS: readonly Weighted<FacilityKind>[] = [
  [
    {
      names: ["Medical Center", "General Hospital", "Regional Medical Center", "Community Hospital"],
      employees: [150, 9000],
      services: HOSPITAL_SERVICES,
      serviceCount: [2, 7],
      labs: [LABS.core, LABS.bloodBank, LABS.microbiology, LABS.pathology, LABS.molecular, LABS.histocompatibility],
      labCount: [1, 2],
      bodies: [TJC, DNV, ACHC, CIHQ, CAP],
    },
    12,
  ],
  [
    {
      names: ["Family Clinic", "Community Health Center", "Primary Care", "Health Clinic"],
      employees: [6, 160],
      services: PRIMARY_CARE_SERVICES,
      serviceCount: [1, 5],
      labs: [LABS.clinic, LABS.pointOfCare],
      labCount: [0, 1],
      bodies: [AAAHC, TJC, COLA],
    },
    30,
  ],
  [
    {
      names: ["Urgent Care", "Walk-In Clinic"],
      employees: [8, 90],
      services: ["Urgent Care", "X-Ray", "Occupational Health", "Sports Physicals", "Telehealth"],
      serviceCount: [1, 4],
      labs: [LABS.pointOfCare],
      labCount: [0, 1],
      bodies: [UCAOA, AAAHC, TJC],
    },
    15,
  ],
  [
    {
      names: ["Imaging Center", "Diagnostic Imaging"],
      employees: [10, 140],
      services: ["MRI", "CT", "Ultrasound", "Mammography", "PET", "X-Ray", "Nuclear Medicine"],
      serviceCount: [2, 5],
      labs: [],
      labCount: [0, 0],
      bodies: [ACR, IAC, TJC],
    },
    8,
  ],
  [
    {
      names: ["Surgery Center", "Ambulatory Surgery Center", "Orthopedic Surgery Center"],
      employees: [20, 260],
      services: ["Orthopedic Surgery", "Ophthalmology", "Endoscopy", "Pain Management", "Plastic Surgery", "ENT"],
      serviceCount: [1, 4],
      labs: [LABS.pathology, LABS.pointOfCare],
      labCount: [0, 1],
      bodies: [AAAHC, TJC, QUAD_A],
    },
    8,
  ],
  [
    {
      names: ["Clinical Laboratory", "Reference Laboratory", "Diagnostics"],
      employees: [10, 700],
      services: ["Laboratory Testing", "Specimen Collection", "Genetic Testing", "Toxicology"],
      serviceCount: [1, 4],
      labs: [LABS.core, LABS.molecular, LABS.microbiology, LABS.toxicology],
      labCount: [1, 3],
      bodies: [CAP, COLA, TJC],
    },
    6,
  ],
  [
    {
      names: ["Nursing and Rehabilitation Center", "Skilled Nursing Facility", "Care Center"],
      employees: [40, 420],
      services: ["Skilled Nursing", "Rehabilitation", "Memory Care", "Hospice", "Physical Therapy"],
      serviceCount: [2, 5],
      labs: [LABS.pointOfCare],
      labCount: [0, 1],
      bodies: [TJC, CARF, ACHC],
    },
    10,
  ],
  [
    {
      names: ["Behavioral Health Center", "Recovery Center"],
      employees: [15, 320],
      services: ["Behavioral Health", "Addiction Treatment", "Crisis Stabilization", "Counseling", "Telehealth"],
      serviceCount: [1, 4],
      labs: [LABS.toxicology],
      labCount: [0, 1],
      bodies: [CARF, TJC],
    },
    6,
  ],
  [
    {
      names: ["Dialysis Center", "Kidney Care"],
      employees: [10, 70],
      services: ["Dialysis", "Home Dialysis Training", "Nephrology"],
      serviceCount: [1, 3],
      labs: [LABS.clinic],
      labCount: [0, 1],
      bodies: [ACHC, TJC],
    },
    5,
  ],
];

/** How many accreditations a facility has (0-3), and how often. */
export const ACCREDITATION_COUNTS: readonly Weighted<number>[] = [
  [0, 14],
  [1, 52],
  [2, 25],
  [3, 9],
];

/** valid_until is drawn from these years; this share of dates falls on the last day of its month. */
export const VALID_UNTIL_YEARS = { first: 2024, last: 2028 } as const;
export const MONTH_END_SHARE = 0.3;
